"""PV input 1: read in 0.1 W, and evidence (never a silent rescale) when it looks like watts."""

from __future__ import annotations

from custom_components.vebus_marstek.marstek.messages import parse_pv_status
from custom_components.vebus_marstek.marstek.models import PvStatus
from custom_components.vebus_marstek.marstek.profile import resolve_profile
from custom_components.vebus_marstek.marstek.pv_units import EVIDENCE_READINGS, Pv1UnitCheck

VENUS_A = resolve_profile("Venus A", 147)


def _pv(pv1_raw: int, others_w: int) -> PvStatus:
    raw = {"pv1_power": pv1_raw} | {f"pv{n}_power": others_w for n in (2, 3, 4)}
    return parse_pv_status(raw, VENUS_A)


def _observe(check: Pv1UnitCheck, status: PvStatus, times: int) -> None:
    for _ in range(times):
        check.observe(status, VENUS_A.pv1_power_scale)


def test_tenths_of_a_watt_raise_no_suspicion() -> None:
    check = Pv1UnitCheck()
    _observe(check, _pv(2680, 290), 100)  # fixture 2 scaled up: 268 W next to 290 W strings
    assert not check.suspect


def test_a_pv1_that_reads_like_watts_for_half_an_hour_is_suspect() -> None:
    check = Pv1UnitCheck()
    _observe(check, _pv(300, 290), EVIDENCE_READINGS - 1)
    assert not check.suspect
    _observe(check, _pv(300, 290), 1)
    assert check.suspect


def test_one_reading_in_tenths_clears_the_evidence() -> None:
    """A shaded PV 1 looks like watts for a while; its next sunny reading clears it."""
    check = Pv1UnitCheck()
    _observe(check, _pv(300, 290), EVIDENCE_READINGS - 1)
    _observe(check, _pv(2800, 290), 1)
    _observe(check, _pv(300, 290), EVIDENCE_READINGS - 1)
    assert not check.suspect


def test_no_evidence_without_production_or_when_already_in_watts() -> None:
    check = Pv1UnitCheck()
    _observe(check, _pv(30, 29), 100)  # dusk: too little to compare
    _observe(check, _pv(300, 0), 100)  # only PV 1 connected
    for _ in range(100):
        check.observe(_pv(300, 290), 1.0)  # the user said PV 1 is in watts
    assert not check.suspect
