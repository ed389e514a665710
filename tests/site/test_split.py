"""A site request shared out among batteries, in the cases a user would recognise."""

from __future__ import annotations

from dataclasses import replace

import pytest

from custom_components.vebus_marstek.site import (
    Member,
    Split,
    SplitSettings,
    SplitState,
    Strategy,
    split_power,
)

# No staging: every member that can serve works, to see the proportions alone.
ALL_AT_ONCE = SplitSettings(stage_w=None)
ROTATION = SplitSettings(strategy=Strategy.ROTATION)
BY_THROUGHPUT = SplitSettings(strategy=Strategy.ROTATION_THROUGHPUT)


def unit(member_id: str, soc: float, capacity_wh: float, limit_w: float, floor: float) -> Member:
    """A member that reports everything, with the same limit both ways."""
    return Member(
        member_id=member_id,
        available=True,
        soc_percent=soc,
        capacity_wh=capacity_wh,
        battery_power_w=0,
        max_charge_w=limit_w,
        max_discharge_w=limit_w,
        floor_soc_percent=floor,
    )


def venus(member_id: str, soc: float, **changes: object) -> Member:
    """A Venus E: 5.12 kWh, 2.5 kW each way, discharge floor at 10 %."""
    return replace(unit(member_id, soc, 5120, 2500, 10), **changes)  # type: ignore[arg-type]


def multiplus(soc: float, **changes: object) -> Member:
    """A MultiPlus at 3 kW on a 9.6 kWh bank, discharge floor at 20 %."""
    return replace(unit("multiplus", soc, 9600, 3000, 20), **changes)  # type: ignore[arg-type]


def site(a: float = 60, b: float = 35, mp: float = 60) -> list[Member]:
    """Above their floors: A 2560 Wh, B 1280 Wh, MultiPlus 3840 Wh, that is 2 : 1 : 3."""
    return [venus("a", a), venus("b", b), multiplus(mp)]


def powers(split: Split) -> dict[str, float]:
    return {member_id: round(power, 6) for member_id, power in split.powers_w.items()}


def test_discharge_follows_the_energy_above_each_floor() -> None:
    split = split_power(site(), 3000, now=0, settings=ALL_AT_ONCE)
    assert powers(split) == {"a": 1000, "b": 500, "multiplus": 1500}


def test_charge_follows_the_headroom_below_full() -> None:
    # Headroom: A 40 % of 5120, B 65 % of 5120, MultiPlus 40 % of 9600 -> 2048 : 3328 : 3840.
    split = split_power(site(), -921.6, now=0, settings=ALL_AT_ONCE)
    assert powers(split) == {"a": -204.8, "b": -332.8, "multiplus": -384}


def test_a_member_at_its_limit_passes_the_rest_to_the_others() -> None:
    # 7 kW in 2 : 1 : 3 would ask 3.5 kW of the MultiPlus and then 2.67 kW of A: both clipped.
    split = split_power(site(), 7000, now=0, settings=ALL_AT_ONCE)
    assert powers(split) == {"a": 2500, "b": 1500, "multiplus": 3000}
    assert split.total_w == pytest.approx(7000)


def test_a_member_at_its_floor_does_not_discharge_but_may_charge() -> None:
    members = site(b=10)
    discharge = split_power(members, 3000, now=0, settings=ALL_AT_ONCE)
    assert powers(discharge) == {"a": 1200, "b": 0, "multiplus": 1800}
    charge = split_power(members, -3000, now=0, settings=ALL_AT_ONCE)
    assert charge.powers_w["b"] < 0


def test_a_full_member_does_not_charge() -> None:
    members = [venus("a", 100), venus("b", 50), multiplus(50)]
    split = split_power(members, -2000, now=0, settings=ALL_AT_ONCE)
    assert split.powers_w["a"] == 0
    assert split.total_w == pytest.approx(-2000)


def test_an_unavailable_member_gets_nothing() -> None:
    members = [venus("a", 60), venus("b", 35), multiplus(60, available=False)]
    split = split_power(members, 3000, now=0, settings=ALL_AT_ONCE)
    assert powers(split) == {"a": 2000, "b": 1000, "multiplus": 0}


def test_a_member_whose_firmware_cannot_follow_gets_nothing() -> None:
    members = [venus("a", 60, can_follow=False), venus("b", 35), multiplus(60)]
    split = split_power(members, 3000, now=0, settings=ALL_AT_ONCE)
    assert powers(split) == {"a": 0, "b": 750, "multiplus": 2250}


def test_a_member_with_unknown_soc_gets_nothing() -> None:
    members = [venus("a", 60, soc_percent=None), venus("b", 35), multiplus(60)]
    split = split_power(members, 3000, now=0, settings=ALL_AT_ONCE)
    assert split.powers_w["a"] == 0


def test_a_request_above_the_feasible_maximum_gets_every_member_at_its_limit() -> None:
    discharge = split_power(site(), 10_000, now=0)
    assert powers(discharge) == {"a": 2500, "b": 2500, "multiplus": 3000}
    assert discharge.feasible_w == 8000
    charge = split_power(site(), -10_000, now=0)
    assert powers(charge) == {"a": -2500, "b": -2500, "multiplus": -3000}
    assert charge.feasible_w == -8000


def test_without_capacities_the_shares_follow_soc_points() -> None:
    members = [venus("a", 60, capacity_wh=None), venus("b", 35), multiplus(60)]
    # Points above the floors: 50, 25 and 40.
    split = split_power(members, 2300, now=0, settings=ALL_AT_ONCE)
    assert powers(split) == {"a": 1000, "b": 500, "multiplus": 800}


def test_nothing_requested_nothing_asked() -> None:
    split = split_power(site(), 0, now=0)
    assert set(split.powers_w.values()) == {0}


def test_nobody_able_to_serve_gets_nothing_asked() -> None:
    members = [venus("a", 10), venus("b", 5), multiplus(60, available=False)]
    split = split_power(members, 1000, now=0)
    assert set(split.powers_w.values()) == {0}
    assert split.feasible_w == 0


def test_a_request_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="not a number"):
        split_power(site(), float("nan"), now=0)


def test_members_must_have_distinct_ids() -> None:
    with pytest.raises(ValueError, match="share an id"):
        split_power([venus("a", 50), venus("a", 60)], 100, now=0)


def working(split: Split) -> list[str]:
    return [member_id for member_id, power in split.powers_w.items() if power]


def test_low_power_goes_to_one_battery_and_stages_admit_more() -> None:
    # Stages of 600 W; the MultiPlus has the most energy above its floor, then A, then B.
    assert working(split_power(site(), 500, now=0)) == ["multiplus"]
    assert working(split_power(site(), 1000, now=0)) == ["a", "multiplus"]
    assert working(split_power(site(), 1500, now=0)) == ["a", "b", "multiplus"]


def test_staging_admits_more_members_when_the_admitted_ones_cannot_cover_the_request() -> None:
    split = split_power(site(), 4000, now=0, settings=SplitSettings(stage_w=5000))
    assert working(split) == ["a", "multiplus"]
    assert split.total_w == pytest.approx(4000)


def test_a_staged_member_stays_for_the_hold_time_after_it_was_last_needed() -> None:
    settings = SplitSettings(stage_w=600, min_hold_s=60)
    split = split_power(site(), 1000, now=0, settings=settings)
    assert working(split) == ["a", "multiplus"]
    split = split_power(site(), 300, now=30, state=split.state, settings=settings)
    assert working(split) == ["a", "multiplus"]
    assert split.total_w == pytest.approx(300)
    split = split_power(site(), 300, now=60, state=split.state, settings=settings)
    assert working(split) == ["multiplus"]
    assert [(m.member_id, m.joined_at, m.needed_at) for m in split.state.staged] == [
        ("multiplus", 0, 60)
    ]


def test_staging_starts_afresh_when_the_request_changes_sign() -> None:
    split = split_power(site(), 1500, now=0)
    assert len(split.state.staged) == 3
    split = split_power(site(), -300, now=1, state=split.state)
    assert len(working(split)) == 1


def test_rotation_uses_one_member_and_the_next_ones_join_beyond_its_limit() -> None:
    split = split_power(site(), 2000, now=0, settings=ROTATION)
    assert powers(split) == {"a": 0, "b": 0, "multiplus": 2000}
    split = split_power(site(), 4000, now=1, state=split.state, settings=ROTATION)
    assert powers(split) == {"a": 1000, "b": 0, "multiplus": 3000}
    split = split_power(site(), 9000, now=2, state=split.state, settings=ROTATION)
    assert powers(split) == {"a": 2500, "b": 2500, "multiplus": 3000}


def test_rotation_keeps_the_working_member_until_another_is_better_by_the_margin() -> None:
    def lead_after(a: float, b: float, state: SplitState) -> tuple[str, SplitState]:
        members = [venus("a", a), venus("b", b)]
        split = split_power(members, 500, now=0, state=state, settings=ROTATION)
        return working(split)[0], split.state

    lead, state = lead_after(60, 57, SplitState())
    assert lead == "a"
    lead, state = lead_after(60, 64.9, state)  # better by less than 5 points: no change
    assert lead == "a"
    lead, state = lead_after(60, 65.1, state)
    assert lead == "b"
    lead, state = lead_after(64, 65.1, state)
    assert lead == "b"


def test_rotation_moves_on_when_the_working_member_reaches_its_floor() -> None:
    split = split_power([venus("a", 60), venus("b", 50)], 500, now=0, settings=ROTATION)
    assert working(split) == ["a"]
    members = [venus("a", 10), venus("b", 50)]
    split = split_power(members, 500, now=1, state=split.state, settings=ROTATION)
    assert working(split) == ["b"]


def test_the_working_member_is_kept_per_direction() -> None:
    # A discharges (more energy), B charges (more headroom), neither better than the other by
    # the margin: had they shared one working member, the first choice would have stayed.
    members = [venus("a", 52), venus("b", 50)]
    state = SplitState()
    for request in (300, -300, 300, -300):
        split = split_power(members, request, now=0, state=state, settings=ROTATION)
        assert working(split) == (["a"] if request > 0 else ["b"])
        state = split.state
    assert (state.discharge_lead, state.charge_lead) == ("a", "b")


def test_rotation_by_throughput_puts_the_least_worn_battery_to_work() -> None:
    # B has less energy to give but has moved 2 kWh less since it joined the site.
    members = [venus("a", 80, throughput_wh=3000), venus("b", 40, throughput_wh=1000)]
    split = split_power(members, 1800, now=0, settings=BY_THROUGHPUT)
    assert powers(split) == {"a": 0, "b": 1800}
    split = split_power(members, 3000, now=1, state=split.state, settings=BY_THROUGHPUT)
    assert powers(split) == {"a": 500, "b": 2500}, "the next joins only beyond its limit"


def test_rotation_by_throughput_hands_over_once_the_lead_moved_the_margin_more() -> None:
    def lead_after(a_wh: float, b_wh: float, state: SplitState) -> tuple[str, SplitState]:
        members = [venus("a", 60, throughput_wh=a_wh), venus("b", 60, throughput_wh=b_wh)]
        split = split_power(members, -800, now=0, state=state, settings=BY_THROUGHPUT)
        return working(split)[0], split.state

    lead, state = lead_after(1000, 1000, SplitState())
    assert lead == "a"  # a tie: the first one listed
    lead, state = lead_after(1499, 1000, state)
    assert lead == "a", "within the 500 Wh margin it keeps working"
    lead, state = lead_after(1501, 1000, state)
    assert lead == "b"
    lead, state = lead_after(1501, 1900, state)
    assert lead == "b"


def test_rotation_by_throughput_ranks_by_energy_when_a_member_does_not_report_it() -> None:
    members = [venus("a", 40, throughput_wh=0), venus("b", 80)]
    split = split_power(members, 500, now=0, settings=BY_THROUGHPUT)
    assert working(split) == ["b"]


def test_rotation_by_throughput_breaks_a_tie_on_the_energy_to_give() -> None:
    members = [venus("a", 30, throughput_wh=0), venus("b", 70, throughput_wh=0)]
    split = split_power(members, 500, now=0, settings=BY_THROUGHPUT)
    assert working(split) == ["b"]
