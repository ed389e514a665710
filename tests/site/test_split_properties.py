"""Properties of the split that must hold for any site, request and history."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
import math

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.vebus_marstek.site.models import (
    Member,
    Split,
    SplitSettings,
    SplitState,
    Strategy,
)
from custom_components.vebus_marstek.site.split import split_power

PROPERTIES = settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TOLERANCE_W = 1e-6


# Most members can serve, so that most sites have several candidates to share among.
mostly = st.integers(0, 3).map(bool)


@st.composite
def members(draw: st.DrawFn, count: int) -> Member:
    """A member with anything a real device might report, missing values included."""
    return Member(
        member_id=f"m{count}",
        available=draw(mostly),
        soc_percent=draw(st.floats(0, 100)) if draw(mostly) else None,
        capacity_wh=draw(st.floats(0, 20_000)) if draw(mostly) else None,
        battery_power_w=None,
        max_charge_w=draw(st.floats(0, 5000)),
        max_discharge_w=draw(st.floats(0, 5000)),
        floor_soc_percent=draw(st.floats(0, 50)),
        full_soc_percent=draw(st.floats(50, 100)),
        can_follow=draw(mostly),
        throughput_wh=draw(st.floats(0, 50_000)) if draw(mostly) else None,
    )


sites = st.integers(1, 5).flatmap(lambda n: st.tuples(*(members(i) for i in range(n))))
split_settings = st.builds(
    SplitSettings,
    strategy=st.sampled_from(Strategy),
    stage_w=st.none() | st.floats(1, 5000),
    min_hold_s=st.floats(0, 120),
    lead_margin_percent=st.floats(0, 20),
    throughput_margin_wh=st.floats(0, 2000),
)
# Requests and the time each one arrives, one after the other.
# Small requests too: most requests within reach exercise the shares and the staging.
requests = st.floats(-3000, 3000) | st.floats(-20_000, 20_000) | st.just(0.0)
histories = st.lists(st.tuples(requests, st.floats(0, 100)), min_size=1, max_size=8)


def may_serve(member: Member, request_w: float) -> bool:
    """Whether the member may move power in the request's direction at all."""
    soc = member.soc_percent
    if not member.available or not member.can_follow or soc is None:
        return False
    if request_w > 0:
        return soc > member.floor_soc_percent and member.max_discharge_w > 0
    return soc < member.full_soc_percent and member.max_charge_w > 0


def feasible_w(site: tuple[Member, ...], request_w: float) -> float:
    """The most the site can move in the request's direction, with its sign."""
    if request_w > 0:
        return math.fsum(m.max_discharge_w for m in site if may_serve(m, request_w))
    return -math.fsum(m.max_charge_w for m in site if may_serve(m, request_w))


def splits(
    site: tuple[Member, ...], history: list[tuple[float, float]], config: SplitSettings
) -> Iterator[Split]:
    """The decisions for one request after the other, each given the state of the one before."""
    state, now = SplitState(), 0.0
    for request_w, elapsed in history:
        now += elapsed
        split = split_power(site, request_w, now=now, state=state, settings=config)
        state = split.state
        yield split


@PROPERTIES
@given(sites, histories, split_settings)
def test_powers_add_up_to_the_request_or_to_the_feasible_maximum(
    site: tuple[Member, ...], history: list[tuple[float, float]], config: SplitSettings
) -> None:
    for split in splits(site, history, config):
        request_w = split.request_w
        feasible = feasible_w(site, request_w) if request_w else 0.0
        expected = request_w if abs(request_w) <= abs(feasible) else feasible
        assert math.fsum(split.powers_w.values()) == pytest.approx(expected, abs=TOLERANCE_W)
        assert split.feasible_w == pytest.approx(feasible, abs=TOLERANCE_W)


@PROPERTIES
@given(sites, histories, split_settings)
def test_no_member_is_asked_for_what_it_must_not_do(
    site: tuple[Member, ...], history: list[tuple[float, float]], config: SplitSettings
) -> None:
    for split in splits(site, history, config):
        assert set(split.powers_w) == {m.member_id for m in site}
        for member in site:
            power = split.powers_w[member.member_id]
            assert power <= member.max_discharge_w
            assert -power <= member.max_charge_w
            assert power * split.request_w >= 0, "never against the request"
            if not member.available or not member.can_follow or member.soc_percent is None:
                assert power == 0
            elif member.soc_percent <= member.floor_soc_percent:
                assert power <= 0, "no discharge at or below the floor"
            elif member.soc_percent >= member.full_soc_percent:
                assert power >= 0, "no charge at or above full"


@st.composite
def steady_sites(draw: st.DrawFn) -> tuple[Member, ...]:
    """Members that can all serve either way, SOC at least 6 points from floor and full."""
    count = draw(st.integers(2, 4))
    known = draw(st.booleans())  # capacities all known, or one missing (SOC points count)
    site = []
    for i in range(count):
        floor, full = draw(st.floats(0, 30)), draw(st.floats(70, 100))
        capacity = draw(st.floats(1000, 20_000)) if known or i else None
        site.append(
            Member(
                member_id=f"m{i}",
                available=True,
                soc_percent=draw(st.floats(floor + 6, full - 6)),
                capacity_wh=capacity,
                battery_power_w=None,
                max_charge_w=draw(st.floats(500, 5000)),
                max_discharge_w=draw(st.floats(500, 5000)),
                floor_soc_percent=floor,
                full_soc_percent=full,
            )
        )
    return tuple(site)


MARGIN = 5.0
# Each SOC stays within less than half the margin of where it started, so any two of them move
# relative to each other by less than the margin.
wobbles = st.lists(
    st.lists(st.floats(-0.49 * MARGIN, 0.49 * MARGIN), min_size=4, max_size=4),
    min_size=1,
    max_size=20,
)


@PROPERTIES
@given(
    steady_sites(),
    wobbles,
    st.sampled_from([100.0, -100.0]),
    st.sampled_from(Strategy),
)
def test_the_working_member_does_not_change_when_socs_wobble_within_the_margin(
    site: tuple[Member, ...], steps: list[list[float]], request_w: float, strategy: Strategy
) -> None:
    config = SplitSettings(strategy=strategy, lead_margin_percent=MARGIN, min_hold_s=0)
    first = split_power(site, request_w, now=0, settings=config)
    (lead,) = (member_id for member_id, power in first.powers_w.items() if power)
    state = first.state
    for now, deltas in enumerate(steps, start=1):
        wobbled = tuple(
            replace(m, soc_percent=(m.soc_percent or 0) + delta)
            for m, delta in zip(site, deltas, strict=False)
        )
        split = split_power(wobbled, request_w, now=now, state=state, settings=config)
        state = split.state
        assert [member_id for member_id, power in split.powers_w.items() if power] == [lead]


@PROPERTIES
@given(
    st.integers(2, 4),
    st.lists(st.floats(1, 200), min_size=1, max_size=80),
    st.sampled_from([1500.0, -1500.0]),
    st.lists(st.floats(-2, 2), min_size=80, max_size=80),
)
def test_rotation_by_throughput_evens_out_what_the_members_moved(
    count: int, moved_per_step: list[float], request_w: float, soc_noise: list[float]
) -> None:
    """The least worn member works until it has moved the margin more than another; then the
    other takes over. What they moved never drifts further apart than the margin and one step,
    and each handover is earned (no flapping, whatever the SOCs do meanwhile)."""
    config = SplitSettings(strategy=Strategy.ROTATION_THROUGHPUT)
    margin = config.throughput_margin_wh
    moved = {f"m{i}": 0.0 for i in range(count)}
    state, lead = SplitState(), None
    for now, (energy_wh, noise) in enumerate(zip(moved_per_step, soc_noise, strict=False)):
        site = [
            Member(
                member_id=member_id,
                available=True,
                soc_percent=50 + noise * (i + 1),
                capacity_wh=5120,
                battery_power_w=None,
                max_charge_w=2500,
                max_discharge_w=2500,
                throughput_wh=moved[member_id],
            )
            for i, member_id in enumerate(moved)
        ]
        split = split_power(site, request_w, now=now, state=state, settings=config)
        state = split.state
        (working,) = (member_id for member_id, power in split.powers_w.items() if power)
        if lead is not None and working != lead:
            assert moved[lead] > moved[working] + margin, "a handover it had not earned"
        lead = working
        moved[working] += energy_wh
        assert max(moved.values()) - min(moved.values()) <= margin + max(moved_per_step)
