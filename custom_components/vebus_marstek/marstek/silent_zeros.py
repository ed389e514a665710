"""Holding the state of charge through the zeros a BMS reports while it is not talking.

When the battery management system stops answering the inverter for a moment, the status
replies carry 0 % and 0 Wh stored. No Marstek battery can empty that fast: at its full power
the smallest (Venus A, 2 kWh at 1.5 kW) loses about 12 % in ten minutes. So a 0 % reading
shortly after one of at least ``SOC_FLOOR`` % is a silent zero, and the last good reading
stands in for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import logging

from .models import BatteryStatus, EnergySystemStatus

_LOGGER = logging.getLogger(__name__)

SOC_FLOOR = 15.0  # %: from here, reaching 0 within HOLD_S is not physically possible
HOLD_S = 600.0  # how long a good reading may stand in for silent zeros


@dataclass(frozen=True, slots=True)
class _Reading:
    soc: float
    remaining_wh: float | None
    at: float


class SilentZeroGuard:
    """Replaces implausible 0 % readings with the last good one, for a limited time.

    ES.GetStatus and Bat.GetStatus are followed separately: each has its own last reading.
    """

    def __init__(self) -> None:
        self._last: dict[str, _Reading] = {}

    def es_status(self, status: EnergySystemStatus, now: float) -> EnergySystemStatus:
        """ES.GetStatus with silent zeros replaced."""
        soc, remaining = self._check("es", status.soc, status.remaining_capacity_wh, now)
        return replace(status, soc=soc, remaining_capacity_wh=remaining)

    def battery_status(self, status: BatteryStatus, now: float) -> BatteryStatus:
        """Bat.GetStatus with silent zeros replaced."""
        soc, remaining = self._check("battery", status.soc, status.remaining_capacity_wh, now)
        return replace(status, soc=soc, remaining_capacity_wh=remaining)

    def _check(
        self, source: str, soc: float | None, remaining_wh: float | None, now: float
    ) -> tuple[float | None, float | None]:
        last = self._last.get(source)
        if soc == 0 and last is not None and last.soc >= SOC_FLOOR and now - last.at <= HOLD_S:
            _LOGGER.debug("%s read 0 %% after %s %%: holding the last reading", source, last.soc)
            return last.soc, remaining_wh or last.remaining_wh
        if soc is not None:
            self._last[source] = _Reading(soc=soc, remaining_wh=remaining_wh, at=now)
        return soc, remaining_wh
