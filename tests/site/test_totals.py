"""Site energy totals never go down, and the site seen as one battery."""

from __future__ import annotations

from itertools import pairwise
import json

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.vebus_marstek.energy import RESET_CONFIRMATIONS
from custom_components.vebus_marstek.site import Member, SiteTotals, summarise


def two_batteries() -> SiteTotals:
    """Two members that joined with lifetime totals, then moved 100 Wh and 200 Wh each way."""
    totals = SiteTotals()
    totals.update("a", charge_wh=1000, discharge_wh=800, now=0)
    totals.update("b", charge_wh=2000, discharge_wh=1500, now=0)
    totals.update("a", charge_wh=1100, discharge_wh=900, now=60)
    totals.update("b", charge_wh=2200, discharge_wh=1700, now=60)
    return totals


def test_the_site_totals_add_up_what_the_members_moved() -> None:
    totals = two_batteries()
    assert (totals.charge_wh, totals.discharge_wh) == (300, 300)
    assert totals.members == ("a", "b")


def test_a_member_joining_adds_from_zero_not_its_lifetime() -> None:
    totals = two_batteries()
    totals.update("c", charge_wh=750_000, discharge_wh=700_000, now=120)
    assert (totals.charge_wh, totals.discharge_wh) == (300, 300)
    totals.update("c", charge_wh=750_050, discharge_wh=700_000, now=180)
    assert totals.charge_wh == 350


def test_each_member_has_moved_what_it_charged_and_discharged_since_it_joined() -> None:
    totals = two_batteries()
    restored = SiteTotals.from_dict(json.loads(json.dumps(totals.as_dict())))
    assert (restored.throughput_wh("a"), restored.throughput_wh("b")) == (200, 400)
    totals.update("c", charge_wh=750_000, discharge_wh=None, now=120)
    assert totals.throughput_wh("c") is None, "half of it is not its throughput"
    assert totals.throughput_wh("never-seen") is None


def test_nothing_reported_yet_is_unknown() -> None:
    totals = SiteTotals()
    totals.update("a", charge_wh=None, discharge_wh=None, now=0)
    assert (totals.charge_wh, totals.discharge_wh) == (None, None)
    assert totals.members == ()


def test_an_offline_member_keeps_its_last_total_in_the_sum() -> None:
    totals = two_batteries()
    totals.update("b", charge_wh=None, discharge_wh=None, now=120)
    totals.update("a", charge_wh=1110, discharge_wh=900, now=120)
    assert totals.charge_wh == 310
    # What b moved while it could not be read counts when it answers again.
    totals.update("b", charge_wh=2220, discharge_wh=1700, now=180)
    assert totals.charge_wh == 330


def test_a_member_reset_does_not_make_the_site_total_drop() -> None:
    totals = two_batteries()
    seen = []
    for step, raw in enumerate((10, 20, 30, 40), start=2):
        totals.update("b", charge_wh=raw, discharge_wh=1700, now=60 * step)
        seen.append(totals.charge_wh)
    # Held while the reset is unconfirmed, then B's growth since its reset is added on top.
    assert seen[: RESET_CONFIRMATIONS - 1] == [300] * (RESET_CONFIRMATIONS - 1)
    assert seen[-1] == 300 + 40


def test_a_retired_member_still_counts() -> None:
    totals = two_batteries()
    totals.retire("b")
    assert totals.charge_wh == 300
    assert totals.members == ("a",)
    assert SiteTotals.from_dict(totals.as_dict()).charge_wh == 300


def test_the_totals_survive_a_restart_as_json() -> None:
    totals = two_batteries()
    restored = SiteTotals.from_dict(json.loads(json.dumps(totals.as_dict())))
    assert (restored.charge_wh, restored.discharge_wh) == (300, 300)
    restored.update("a", charge_wh=1200, discharge_wh=900, now=0)
    assert restored.charge_wh == 400


def test_totals_stored_without_a_starting_point_keep_counting_in_full() -> None:
    stored = {"members": {"a": {"charge": {"offset": 0, "last_raw": 1000}, "discharge": {}}}}
    restored = SiteTotals.from_dict(stored)
    assert restored.charge_wh == 1000
    restored.update("a", charge_wh=1010, discharge_wh=None, now=0)
    assert restored.charge_wh == 1010


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "garbage",
        [],
        {"members": 5},
        {"members": {"a": "x"}, "retired": "y"},
        {"members": {"a": {"charge": {"offset": "x", "last_raw": -1}, "discharge": 7}}},
        {"retired": {"charge_wh": -5, "discharge_wh": True}},
    ],
)
def test_unreadable_stored_totals_start_empty(stored: object) -> None:
    totals = SiteTotals.from_dict(stored)
    assert (totals.charge_wh, totals.discharge_wh) == (None, None)


def test_readable_members_survive_beside_unreadable_ones() -> None:
    stored = two_batteries().as_dict()
    stored["members"] = {**stored["members"], "c": "x", 3: {}}  # type: ignore[dict-item]
    assert SiteTotals.from_dict(stored).charge_wh == 300


# Readings as they arrive: which member, its charge and discharge totals, seconds since the last.
readings = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.none() | st.just(0.0) | st.floats(0, 1e6),
        st.none() | st.just(0.0) | st.floats(0, 1e6),
        st.floats(0, 3600),
        st.booleans(),  # retire the member after this reading
    ),
    max_size=40,
)


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(readings, st.integers(0, 40))
def test_site_totals_never_decrease_and_survive_a_restart(
    sequence: list[tuple[str, float | None, float | None, float, bool]], restart_at: int
) -> None:
    totals, now = SiteTotals(), 0.0
    published: list[tuple[float, float]] = []
    for index, (member_id, charge, discharge, elapsed, retire) in enumerate(sequence):
        if index == restart_at:
            restored = SiteTotals.from_dict(json.loads(json.dumps(totals.as_dict())))
            assert (restored.charge_wh, restored.discharge_wh) == (
                totals.charge_wh,
                totals.discharge_wh,
            )
            totals = restored
        now += elapsed
        totals.update(member_id, charge_wh=charge, discharge_wh=discharge, now=now)
        if retire:
            totals.retire(member_id)
        published.append((totals.charge_wh or 0.0, totals.discharge_wh or 0.0))
    for before, after in pairwise(published):
        assert after[0] >= before[0]
        assert after[1] >= before[1]


def member(member_id: str, **values: object) -> Member:
    defaults: dict[str, object] = {
        "available": True,
        "soc_percent": 50.0,
        "capacity_wh": 5120.0,
        "battery_power_w": 0.0,
        "max_charge_w": 2500.0,
        "max_discharge_w": 2500.0,
    }
    return Member(member_id=member_id, **{**defaults, **values})  # type: ignore[arg-type]


def test_the_site_soc_is_weighted_by_capacity() -> None:
    summary = summarise(
        [member("venus", soc_percent=50), member("multiplus", soc_percent=80, capacity_wh=10_000)]
    )
    assert summary.stored_wh == 2560 + 8000
    assert summary.capacity_wh == 15_120
    assert summary.soc_percent == pytest.approx(100 * 10_560 / 15_120)
    assert summary.energy_members == ("venus", "multiplus")


def test_only_available_members_with_known_values_contribute() -> None:
    summary = summarise(
        [
            member("a", soc_percent=40, battery_power_w=1000),
            member("offline", available=False, soc_percent=90, battery_power_w=2000),
            member("no_capacity", capacity_wh=None, battery_power_w=-400),
            member("no_power", soc_percent=60, battery_power_w=None),
        ]
    )
    assert summary.energy_members == ("a", "no_power")
    assert summary.soc_percent == pytest.approx(50)
    assert summary.power_members == ("a", "no_capacity")
    assert summary.battery_power_w == 600
    assert (summary.charge_power_w, summary.discharge_power_w) == (400, 1000)


def test_a_site_with_nothing_known_is_unknown() -> None:
    summary = summarise([member("a", available=False)])
    assert summary.soc_percent is None
    assert summary.stored_wh is None
    assert summary.battery_power_w is None
    assert summary.energy_members == summary.power_members == ()
