"""How a site drives one member, per family: the write, the read-back and the way back.

Both families have the same shape: a write policy (:mod:`.site.writes`), a power write through
the device's own safe path, what the member reports after it, and the restore that puts the
member back where it was before the site took over. Nothing here is written to EEPROM or flash:
a Marstek Passive command and a VE.Bus ESS setpoint both live in RAM.
"""

from __future__ import annotations

from typing import Protocol

from .const import CONF_SITE_MAX_POWER
from .coordinator import MarstekCoordinator, VebusCoordinator, option_number
from .marstek import OperatingMode
from .site.writes import MARSTEK_PASSIVE, VEBUS_ESS, WritePolicy
from .vebus import output_power

# Modes a Marstek battery can be put back into by itself; Passive (someone else's command)
# and an unknown mode go back to Auto, the battery's own default.
_MARSTEK_RESTORABLE = (OperatingMode.AUTO, OperatingMode.AI, OperatingMode.UPS)


class MemberDriver(Protocol):
    """What the site needs to drive a member."""

    policy: WritePolicy

    def max_power_w(self) -> float:
        """The most the site may ask of the member, either way (W)."""

    def in_mode(self) -> bool:
        """Whether the member is in the mode the site's writes put it in."""

    def measured_w(self) -> float | None:
        """The member's battery power now, + = discharging."""

    async def write(self, power_w: int, hold_s: float | None) -> None:
        """Ask the member for ``power_w`` (battery power, + = discharging)."""

    async def read_back(self) -> None:
        """Read the member once now, after a write (its policy says whether it is ever asked)."""

    async def restore(self) -> str:
        """Put the member back as it was before the site; says what it wrote."""


class MarstekDriver:
    """A Venus in Passive mode: its countdown is the dead-man switch."""

    policy = MARSTEK_PASSIVE

    def __init__(self, coordinator: MarstekCoordinator) -> None:
        self.coordinator = coordinator
        data = coordinator.data
        # Read before the site's first write: the mode to go back to.
        before = data.mode.mode if data is not None and data.mode is not None else None
        self.mode_before = before if before in _MARSTEK_RESTORABLE else OperatingMode.AUTO

    def max_power_w(self) -> float:
        """The model's limit (2500 W on a Venus E)."""
        return float(self.coordinator.profile.max_power_w)

    def in_mode(self) -> bool:
        """Passive, as read back by the last refresh."""
        data = self.coordinator.data
        return (
            data is not None and data.mode is not None and data.mode.mode is OperatingMode.PASSIVE
        )

    def measured_w(self) -> float | None:
        """ES.GetStatus battery power."""
        data = self.coordinator.data
        return data.es.battery_power_w if data is not None and data.es is not None else None

    async def write(self, power_w: int, hold_s: float | None) -> None:
        """ES.SetMode Passive with the power and a countdown; the client confirms the mode."""
        coordinator = self.coordinator
        duration = round(hold_s or MARSTEK_PASSIVE.hold_s or 0)
        coordinator.remember_settings(
            passive=await coordinator.client.set_passive(power_w, duration)
        )

    async def read_back(self) -> None:
        """One fast cycle of the coordinator now (ES.GetStatus, ES.GetMode, EM.GetStatus); its
        next poll then comes a whole interval later. Not debounced: the site's pacing already
        asks at most once per write, a settling time after it, so never more than once every
        10 s, and a cooldown would only push the read past the next write."""
        await self.coordinator.async_refresh()

    async def restore(self) -> str:
        """Back to the mode read before the site's first write."""
        client = self.coordinator.client
        await client.set_mode(self.mode_before)
        return str(self.mode_before)


class VebusDriver:
    """A VE.Bus unit with the ESS assistant: its setpoint, held in RAM by the client."""

    policy = VEBUS_ESS

    def __init__(self, coordinator: VebusCoordinator) -> None:
        self.coordinator = coordinator

    def max_power_w(self) -> float:
        """What its owner entered (the MK3 cannot read the rating); 0 without the ESS assistant."""
        if self.coordinator.unit.ess_setpoint_id is None:
            return 0.0
        return option_number(self.coordinator.config_entry.options, CONF_SITE_MAX_POWER, 0.0)

    def in_mode(self) -> bool:
        """The client holds a setpoint (it writes it again every few seconds)."""
        return self.coordinator.client.ess_target is not None

    def measured_w(self) -> float | None:
        """Battery power from the DC frame."""
        data = self.coordinator.data
        return None if data is None or data.asleep else data.status.battery_power

    async def write(self, power_w: int, hold_s: float | None) -> None:
        """The ESS setpoint is what the unit feeds in at AC-in: the battery also carries the
        loads on AC-out, so the setpoint is the battery power wanted minus those loads."""
        data = self.coordinator.data
        loads = 0.0 if data is None else output_power(data.status) or 0.0
        await self.coordinator.client.hold_ess_setpoint(round(power_w - loads))

    async def read_back(self) -> None:
        """Nothing: the unit is read every second anyway (its policy never asks)."""

    async def restore(self) -> str:
        """Stop holding and write 0: the ESS assistant does its own thing again."""
        await self.coordinator.client.release_ess_setpoint()
        return "ESS setpoint released"
