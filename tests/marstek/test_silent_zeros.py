"""A BMS that stops talking reports 0 % and 0 Wh; the battery did not empty (F item 16)."""

from __future__ import annotations

from custom_components.vebus_marstek.marstek import BatteryStatus, SilentZeroGuard
from custom_components.vebus_marstek.marstek.messages import parse_battery_status, parse_es_status
from custom_components.vebus_marstek.marstek.profile import resolve_profile

E_MINI = resolve_profile("Venus E mini", 300)
VENUS_E3 = resolve_profile("VenusE 3.0", 150)


def _es(soc: int, bat_cap: int) -> dict[str, object]:
    return {"bat_soc": soc, "bat_cap": bat_cap, "ongrid_power": 0, "bat_power": 0}


def test_a_zero_right_after_a_charged_reading_is_held() -> None:
    guard = SilentZeroGuard()
    guard.es_status(parse_es_status(_es(57, 1170), E_MINI), now=0.0)
    held = guard.es_status(parse_es_status(_es(0, 0), E_MINI), now=30.0)
    assert held.soc == 57
    assert held.remaining_capacity_wh == 1170
    # The BMS answers again: the new reading is shown as it is.
    assert guard.es_status(parse_es_status(_es(56, 1150), E_MINI), now=60.0).soc == 56


def test_a_battery_that_really_emptied_reads_zero() -> None:
    guard = SilentZeroGuard()
    guard.es_status(parse_es_status(_es(14, 290), E_MINI), now=0.0)
    assert guard.es_status(parse_es_status(_es(0, 0), E_MINI), now=30.0).soc == 0


def test_zeros_are_held_for_ten_minutes_at_most() -> None:
    guard = SilentZeroGuard()
    guard.es_status(parse_es_status(_es(57, 1170), E_MINI), now=0.0)
    assert guard.es_status(parse_es_status(_es(0, 0), E_MINI), now=599.0).soc == 57
    zero = guard.es_status(parse_es_status(_es(0, 0), E_MINI), now=601.0)
    assert (zero.soc, zero.remaining_capacity_wh) == (0, 0)
    # Once zero has been accepted, later zeros are not replaced by older readings.
    assert guard.es_status(parse_es_status(_es(0, 0), E_MINI), now=602.0).soc == 0


def test_each_status_has_its_own_last_reading() -> None:
    guard = SilentZeroGuard()
    battery = parse_battery_status(
        {"soc": 80, "bat_capacity": 4096, "rated_capacity": 5120}, VENUS_E3
    )
    guard.battery_status(battery, now=0.0)
    # ES.GetStatus has not been read yet: nothing to hold, so its zero stands.
    assert guard.es_status(parse_es_status(_es(0, 5120), VENUS_E3), now=10.0).soc == 0
    silent: BatteryStatus = guard.battery_status(
        parse_battery_status({"soc": 0, "bat_capacity": 0, "rated_capacity": 5120}, VENUS_E3),
        now=20.0,
    )
    assert (silent.soc, silent.remaining_capacity_wh) == (80, 4096)
    assert silent.rated_capacity_wh == 5120


def test_unknown_is_not_a_zero() -> None:
    guard = SilentZeroGuard()
    guard.es_status(parse_es_status(_es(57, 1170), E_MINI), now=0.0)
    assert guard.es_status(parse_es_status({"ongrid_power": 0}, E_MINI), now=30.0).soc is None
