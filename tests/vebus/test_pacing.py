"""When the slow tier is read: as often as asked, unless that takes more of the wire than allowed.

The durations are the ones ``scripts/bench`` measures at 2400 baud (CONTRIBUTING.md).
"""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from custom_components.vebus_marstek.vebus.refresh import (
    SLOW_PERIOD_MAX_S,
    WIRE_BUDGET,
    TierPacing,
    slow_period_s,
)

ONE_UNIT = {"fast_s": 0.33, "slow_extra_s": 0.56}  # a MultiPlus-II 48/3000
THREE_PHASE = {"fast_s": 0.558, "slow_extra_s": 0.55}  # three MultiPlus 24/3000


def _share(fast_s: float, slow_extra_s: float, period_s: float, slow_s: float) -> float:
    return fast_s / period_s + slow_extra_s / slow_s


def test_one_unit_gets_the_slow_tier_as_often_as_asked() -> None:
    slow_s = slow_period_s(**ONE_UNIT, period_s=1.0, asked_s=5.0)
    assert slow_s == 5.0
    assert _share(**ONE_UNIT, period_s=1.0, slow_s=slow_s) == pytest.approx(0.442)


def test_three_phases_read_the_slow_tier_less_often_to_keep_the_budget() -> None:
    slow_s = slow_period_s(**THREE_PHASE, period_s=1.0, asked_s=5.0)
    assert slow_s == pytest.approx(13.1, abs=0.1)
    assert _share(**THREE_PHASE, period_s=1.0, slow_s=slow_s) == pytest.approx(WIRE_BUDGET)


def test_three_phases_at_two_seconds_get_the_slow_tier_as_asked() -> None:
    assert slow_period_s(**THREE_PHASE, period_s=2.0, asked_s=5.0) == 5.0


def test_a_fast_tier_filling_the_budget_still_leaves_the_slow_tier_a_turn() -> None:
    assert slow_period_s(fast_s=0.7, slow_extra_s=0.5, period_s=1.0, asked_s=5.0) == 30.0
    assert slow_period_s(fast_s=0.2, slow_extra_s=0.5, period_s=0.0, asked_s=5.0) == 30.0
    assert slow_period_s(fast_s=0.7, slow_extra_s=0.5, period_s=1.0, asked_s=60.0) == 60.0


@given(
    fast_s=st.floats(0.01, 2.0),
    slow_extra_s=st.floats(0.01, 2.0),
    period_s=st.floats(0.5, 60.0),
    asked_s=st.floats(2.0, 300.0),
)
def test_the_budget_holds_whenever_the_fast_tier_leaves_room(
    fast_s: float, slow_extra_s: float, period_s: float, asked_s: float
) -> None:
    slow_s = slow_period_s(
        fast_s=fast_s, slow_extra_s=slow_extra_s, period_s=period_s, asked_s=asked_s
    )
    assert slow_s >= asked_s  # never more often than asked
    assert slow_s <= max(asked_s, SLOW_PERIOD_MAX_S)  # and never starved
    if slow_s < SLOW_PERIOD_MAX_S:
        assert _share(fast_s, slow_extra_s, period_s, slow_s) <= WIRE_BUDGET + 1e-9


def test_pacing_measures_both_tiers_before_it_stretches_the_slow_one() -> None:
    pacing = TierPacing(period_s=1.0, asked_slow_s=5.0)
    assert pacing.is_due(0.0)  # the first refresh reads everything
    pacing.record(0.0, 1.1, slow=True)
    assert not pacing.is_due(4.9)
    assert pacing.is_due(5.0)  # nothing measured yet: as asked
    for second in range(1, 5):
        pacing.record(float(second), 0.558, slow=False)
    pacing.record(5.0, 1.108, slow=True)
    assert pacing.slow_s == pytest.approx(13.1, abs=0.1)
    assert not pacing.is_due(17.0)
    assert pacing.is_due(18.2)


def test_one_slow_reply_does_not_swing_the_pacing() -> None:
    pacing = TierPacing(period_s=1.0, asked_slow_s=5.0, fast_s=0.33, slow_extra_s=0.56)
    pacing.record(0.0, 0.33 + 2.0, slow=True)  # one retry inside a slow refresh
    assert pacing.slow_extra_s == pytest.approx(0.56 + 0.3 * (2.0 - 0.56))
    assert pacing.slow_s == 5.0


def test_a_write_asks_for_the_slow_tier_at_once() -> None:
    pacing = TierPacing(period_s=1.0, asked_slow_s=5.0)
    pacing.record(100.0, 1.0, slow=True)
    assert not pacing.is_due(101.0)
    pacing.read_now()
    assert pacing.is_due(101.0)
