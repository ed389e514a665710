"""Energy totals never go down and do not lose energy across glitches, resets and restarts."""

from __future__ import annotations

import pytest

from custom_components.vebus_marstek.energy import (
    RESET_CONFIRMATIONS,
    EnergyIntegrator,
    MonotonicTotal,
)


def test_missing_and_zero_readings_leave_the_total_alone() -> None:
    total = MonotonicTotal()
    total.update(1000, now=0)
    for glitch in (None, 0, -5, None, 0):
        total.update(glitch, now=10)
    assert total.value == 1000
    total.update(1010, now=20)
    assert total.value == 1010


def test_a_real_counter_reset_continues_from_the_old_total() -> None:
    total = MonotonicTotal()
    total.update(5000, now=0)
    published = []
    for step, raw in enumerate((10, 20, 30, 40), start=1):
        total.update(raw, now=step * 60)
        published.append(total.value)
    # Held while unconfirmed, then the old reading became an offset: nothing went down.
    assert published[: RESET_CONFIRMATIONS - 1] == [5000] * (RESET_CONFIRMATIONS - 1)
    assert published[RESET_CONFIRMATIONS - 1] == 5000 + 30
    assert published[-1] == 5040
    assert published == sorted(published)


def test_a_single_low_reading_is_not_a_reset() -> None:
    total = MonotonicTotal()
    total.update(5000, now=0)
    total.update(12, now=30)
    total.update(5001, now=60)
    total.update(13, now=90)
    total.update(14, now=120)
    assert total.value == 5001


def test_falling_low_readings_do_not_confirm_a_reset() -> None:
    total = MonotonicTotal()
    total.update(5000, now=0)
    for step, raw in enumerate((30, 20, 10), start=1):
        total.update(raw, now=step)
    assert total.value == 5000


def test_an_impossible_jump_waits_for_confirmation() -> None:
    total = MonotonicTotal(max_power_w=2500)
    total.update(1000, now=0)
    total.update(900_000, now=30)  # 900 kWh in 30 s: corruption
    assert total.value == 1000
    total.update(1001, now=60)  # back to normal: the jump is forgotten
    assert total.value == 1001
    total.update(80_000, now=90)
    total.update(80_010, now=120)  # it carried on from there, so it was real
    assert total.value == 80_010


def test_large_growth_after_a_long_absence_is_accepted() -> None:
    total = MonotonicTotal(max_power_w=2500)
    total.update(1000, now=0)
    total.update(21_000, now=10 * 3600)  # 20 kWh over ten hours offline
    assert total.value == 21_000


def test_restored_totals_keep_growing_from_where_they_were() -> None:
    total = MonotonicTotal()
    total.update(5000, now=0)
    for step in range(RESET_CONFIRMATIONS):
        total.update(100 + step, now=step + 1)
    restored = MonotonicTotal.from_dict(total.as_dict())
    assert restored.value == total.value
    restored.update(200, now=0)
    assert restored.value == 5200


@pytest.mark.parametrize("stored", [{}, {"offset": "x", "last_raw": True}, {"last_raw": -3}])
def test_unreadable_stored_data_starts_empty(stored: dict[str, object]) -> None:
    restored = MonotonicTotal.from_dict(stored)
    assert restored.value is None


def test_integrator_splits_power_by_sign() -> None:
    """Positive power is discharge, negative is charge; left Riemann sum over real time."""
    energy = EnergyIntegrator(max_gap_s=120)
    energy.add(-1200, now=0)  # charging 1.2 kW for 30 min
    energy.add(600, now=1800)  # then discharging 600 W for 1 h
    energy.add(0, now=5400)
    # Both intervals are longer than max_gap_s: polls were missed, nothing is guessed.
    assert (energy.negative_wh, energy.positive_wh) == (0, 0)
    long_gaps = EnergyIntegrator(max_gap_s=3600)
    for at, power in ((0, -1200), (1800, 600), (5400, 0)):
        long_gaps.add(power, now=at)
    assert long_gaps.negative_wh == pytest.approx(600)
    assert long_gaps.positive_wh == pytest.approx(600)


def test_integrator_does_not_bridge_missing_samples() -> None:
    energy = EnergyIntegrator(max_gap_s=100)
    energy.add(1000, now=0)
    energy.add(None, now=30)  # the device did not answer
    energy.add(1000, now=60)
    energy.add(1000, now=96)
    assert energy.positive_wh == pytest.approx(10)  # only 60..96 s
    energy.add(1000, now=96)  # no time passed
    assert energy.positive_wh == pytest.approx(10)


def test_integrator_restore() -> None:
    energy = EnergyIntegrator(max_gap_s=60, negative_wh=12.5, positive_wh=3)
    restored = EnergyIntegrator.from_dict(energy.as_dict(), max_gap_s=60)
    assert (restored.negative_wh, restored.positive_wh) == (12.5, 3)
    broken = EnergyIntegrator.from_dict({"negative_wh": -4, "positive_wh": "x"}, max_gap_s=60)
    assert (broken.negative_wh, broken.positive_wh) == (0, 0)
