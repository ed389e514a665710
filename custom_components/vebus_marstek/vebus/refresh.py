"""Refreshing a unit in two tiers: power flows often, everything else every few seconds.

At 2400 baud every frame costs tens of milliseconds, so a refresh asks only for the values
someone needs (a set of :class:`Read`), and splits them by how fast they change: the DC and
AC frames and the power variables are the fast tier (what control and energy integration
need), the input configuration, LEDs, device state, state of charge and settings the slow one.
A refresh that leaves a value out keeps the one read before.

:class:`TierPacing` says when the slow tier is due. Refreshes may take at most
:data:`WIRE_BUDGET` of the link, so writes and the ESS keep-alive always find it free: when
reading the slow tier as often as asked would take more (a three-phase system reads one AC
frame per phase every second), the slow tier waits longer. The pacing measures what each
tier costs on this link, so the same rule fits one unit on a USB port and three on ser2net.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple

from .client import VebusClient
from .messages import RamVar
from .models import UnitInfo, VebusStatus


class ReadKind(StrEnum):
    """One kind of request to the unit."""

    DC = "dc"  # 'F' 0: battery voltage and current, AC-out frequency
    PHASE = "phase"  # 'F' 1..3: AC in and out of one phase
    INPUT_CONFIG = "input_config"  # 'F' 5: input current limits and switch position
    LEDS = "leds"  # 'L': LEDs, alarms and VE.Bus error
    DEVICE_STATE = "device_state"  # winmon 0x0E: device and charge state
    RAM = "ram"  # RAM variables, six per request
    SETTING = "setting"  # read once per session: settings change only when written


class Read(NamedTuple):
    """A value someone needs from the unit."""

    kind: ReadKind
    number: int = 0


type Reads = frozenset[Read]

DC = Read(ReadKind.DC)
INPUT_CONFIG = Read(ReadKind.INPUT_CONFIG)
LEDS = Read(ReadKind.LEDS)
DEVICE_STATE = Read(ReadKind.DEVICE_STATE)


def phase_read(number: int) -> Read:
    """The AC values of one phase."""
    return Read(ReadKind.PHASE, number)


def ram_read(var: int) -> Read:
    """One RAM variable."""
    return Read(ReadKind.RAM, var)


def setting_read(setting: int) -> Read:
    """One setting with its limits."""
    return Read(ReadKind.SETTING, setting)


POWER_VARS = frozenset({RamVar.INPUT_POWER, RamVar.OUTPUT_POWER, RamVar.INVERTER_POWER})
FAST_KINDS = frozenset({ReadKind.DC, ReadKind.PHASE})


def is_fast(read: Read) -> bool:
    """Whether a value belongs to the fast tier: battery and AC values and the powers."""
    return read.kind in FAST_KINDS or (read.kind is ReadKind.RAM and read.number in POWER_VARS)


def fast_reads(reads: Reads) -> Reads:
    """The fast tier of ``reads``."""
    return frozenset(read for read in reads if is_fast(read))


def status_reads(unit: UnitInfo) -> Reads:
    """Everything a full status holds for this unit (settings excepted)."""
    ram = {RamVar.INPUT_POWER, RamVar.OUTPUT_POWER, RamVar.INVERTER_POWER}
    if unit.battery_monitor:
        ram.add(RamVar.SOC)
    return frozenset(
        {DC, INPUT_CONFIG, LEDS, DEVICE_STATE}
        | {phase_read(number) for number in unit.phases}
        | {ram_read(var) for var in ram}
    )


async def read_values(
    client: VebusClient, unit: UnitInfo, reads: Reads, previous: VebusStatus | None = None
) -> VebusStatus:
    """``previous`` with the values in ``reads`` read again (settings are not read here)."""
    status = previous or VebusStatus()
    if DC in reads:
        dc = await client.read_dc_info()
        status = replace(
            status,
            battery_voltage=dc.voltage,
            battery_current=dc.battery_current,
            output_frequency=dc.inverter_frequency,
        )
    phases = dict(status.phases)
    for number in unit.phases:
        if phase_read(number) not in reads:
            continue
        if (phase := await client.read_phase(number)) is None:
            phases.pop(number, None)
        else:
            phases[number] = phase
    status = replace(status, phases=phases)
    if INPUT_CONFIG in reads:
        status = replace(status, input_config=await client.read_input_config())
    if LEDS in reads:
        status = replace(status, leds=await client.read_leds())
    if DEVICE_STATE in reads:
        status = replace(status, device_state=await client.read_device_state())
    ram_ids = sorted(read.number for read in reads if read.kind is ReadKind.RAM)
    if ram_ids:
        fresh = await client.read_ram_vars(ram_ids)
        kept = {var: value for var, value in status.ram.items() if var not in ram_ids}
        status = replace(status, ram=kept | fresh)
    return status


WIRE_BUDGET = 0.6
SLOW_PERIOD_MAX_S = 30.0  # when the fast tier alone fills the budget, the slow tier still comes
_SMOOTHING = 0.3  # weight of a new duration: one slow reply does not swing the pacing


def slow_period_s(*, fast_s: float, slow_extra_s: float, period_s: float, asked_s: float) -> float:
    """How often the slow tier may be read: as asked, or as often as the wire budget allows.

    ``fast_s`` is a fast refresh, ``slow_extra_s`` what the slow tier adds to one, both in
    seconds on the link. Over a period of ``p`` seconds between slow refreshes the link is busy
    ``fast_s / period_s + slow_extra_s / p`` of the time.
    """
    # A period of 0 (the command line's "as fast as it goes") keeps the link busy throughout.
    room = WIRE_BUDGET - fast_s / period_s if period_s > 0 else 0.0
    if room <= 0:
        return max(asked_s, SLOW_PERIOD_MAX_S)
    return max(asked_s, min(slow_extra_s / room, SLOW_PERIOD_MAX_S))


@dataclass
class TierPacing:
    """When the slow tier is due, from the periods asked and what each tier costs here."""

    period_s: float
    asked_slow_s: float
    fast_s: float | None = None
    slow_extra_s: float | None = None
    due_at: float = 0.0  # the first refresh reads everything

    @property
    def slow_s(self) -> float:
        """The slow tier's period now: the one asked until both tiers have been measured."""
        if self.fast_s is None or self.slow_extra_s is None:
            return self.asked_slow_s
        return slow_period_s(
            fast_s=self.fast_s,
            slow_extra_s=self.slow_extra_s,
            period_s=self.period_s,
            asked_s=self.asked_slow_s,
        )

    def is_due(self, now: float) -> bool:
        """Whether a refresh starting ``now`` reads the slow tier."""
        return now >= self.due_at

    def read_now(self) -> None:
        """Read the slow tier in the next refresh (after a write, on a new session)."""
        self.due_at = 0.0

    def record(self, started: float, seconds: float, *, slow: bool) -> None:
        """A refresh started at ``started`` read one or both tiers in ``seconds``."""
        if not slow:
            self.fast_s = _smoothed(self.fast_s, seconds)
            return
        if self.fast_s is not None:
            extra = max(0.0, seconds - self.fast_s)
            self.slow_extra_s = _smoothed(self.slow_extra_s, extra)
        self.due_at = started + self.slow_s


def _smoothed(previous: float | None, sample: float) -> float:
    if previous is None:
        return sample
    return previous + _SMOOTHING * (sample - previous)
