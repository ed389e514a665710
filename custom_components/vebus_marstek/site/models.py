"""A site's members as the site sees them, and what a split decision returns and remembers.

Signs follow the rest of the project: power positive = discharging (the battery feeds the house
or grid), negative = charging. Limits are magnitudes (W, never negative). ``None`` means "the
member did not report this value".

No Home Assistant imports: the site core is plain Python, wired in by the integration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
import math


class Direction(StrEnum):
    """Which way a site request moves energy through the batteries."""

    DISCHARGE = "discharge"
    CHARGE = "charge"


class Strategy(StrEnum):
    """How a site request is shared out among the members."""

    PROPORTIONAL = "proportional"  # everyone admitted works, in proportion to its energy
    # One member works; the next ones join only beyond its limit. The lead is the member with
    # the most energy to move (ROTATION, stored under its first name) or the one that has
    # moved the least energy since it joined the site (ROTATION_THROUGHPUT), to wear evenly.
    ROTATION = "rotation"
    ROTATION_THROUGHPUT = "rotation_throughput"


@dataclass(frozen=True, kw_only=True)
class Member:
    """One battery or VE.Bus unit of the site, at the moment of a decision."""

    member_id: str
    available: bool
    soc_percent: float | None
    capacity_wh: float | None
    battery_power_w: float | None  # positive = discharging
    max_charge_w: float
    max_discharge_w: float
    floor_soc_percent: float = 0.0  # depth-of-discharge floor: no discharge at or below it
    full_soc_percent: float = 100.0  # no charge at or above it
    can_follow: bool = True  # the firmware accepts remote power control
    throughput_wh: float | None = None  # charged plus discharged since it joined the site

    @property
    def known_soc(self) -> float | None:
        """The state of charge, if reported and a real number."""
        return _finite(self.soc_percent)

    @property
    def known_throughput_wh(self) -> float | None:
        """The energy moved since joining the site, if reported and a real number."""
        return _finite(self.throughput_wh)

    @property
    def known_capacity_wh(self) -> float | None:
        """The capacity, if reported and positive (a zero capacity holds nothing to share)."""
        capacity = _finite(self.capacity_wh)
        return capacity if capacity is not None and capacity > 0 else None

    def limit_w(self, direction: Direction) -> float:
        """The most this member may move in ``direction`` (a magnitude)."""
        raw = self.max_discharge_w if direction is Direction.DISCHARGE else self.max_charge_w
        limit = _finite(raw)
        return limit if limit is not None and limit > 0 else 0.0

    def usable_points(self, direction: Direction) -> float:
        """SOC percentage points this member can still move: above its floor, or below full."""
        soc = self.known_soc
        if soc is None:
            return 0.0
        if direction is Direction.DISCHARGE:
            return max(soc - self.floor_soc_percent, 0.0)
        return max(self.full_soc_percent - soc, 0.0)

    def can_serve(self, direction: Direction) -> bool:
        """Whether the site may ask this member to move power in ``direction`` at all.

        An unknown SOC cannot be checked against the floor or full mark, so it cannot serve.
        """
        return (
            self.available
            and self.can_follow
            and self.usable_points(direction) > 0
            and self.limit_w(direction) > 0
        )


@dataclass(frozen=True, kw_only=True)
class ActiveMember:
    """A member admitted by staging: when it joined, and the last time the request needed it."""

    member_id: str
    joined_at: float  # monotonic seconds
    needed_at: float  # monotonic seconds; it may leave ``min_hold_s`` after this


@dataclass(frozen=True, kw_only=True)
class SplitState:
    """What split decisions remember between calls. Pass the returned one to the next call.

    The working member (the lead) is kept per direction, so that a request wobbling around zero
    does not make it change. The staged members belong to one direction: a request changing sign
    starts staging afresh (their power changes sign anyway).
    """

    discharge_lead: str | None = None
    charge_lead: str | None = None
    staged_direction: Direction | None = None
    staged: tuple[ActiveMember, ...] = ()

    def lead(self, direction: Direction) -> str | None:
        """The working member last chosen for ``direction``."""
        return self.discharge_lead if direction is Direction.DISCHARGE else self.charge_lead


@dataclass(frozen=True, kw_only=True)
class SplitSettings:
    """How to split; the defaults suit a few home batteries of 2 to 3 kW each."""

    strategy: Strategy = Strategy.PROPORTIONAL
    # Each stage of this many watts admits one more member; None or 0 admits every member.
    stage_w: float | None = 600.0
    # A staged member stays this long after the request last needed it, so it does not flap.
    min_hold_s: float = 60.0
    # Another member replaces the working one only when better by this many SOC points.
    lead_margin_percent: float = 5.0
    # Rotation by throughput: the working member hands over once it has moved this much more
    # energy than another (a swap every few kWh would wear no better, and every swap costs a
    # ramp on both batteries).
    throughput_margin_wh: float = 500.0


@dataclass(frozen=True, kw_only=True)
class Split:
    """The powers to ask of the members, and the state to pass to the next decision."""

    request_w: float
    feasible_w: float  # the most the candidates can move, with the request's sign
    powers_w: dict[str, float] = field(default_factory=dict)  # every member, 0 when idle
    state: SplitState = field(default_factory=SplitState)

    @property
    def total_w(self) -> float:
        """What the members were asked for in all: the request, or the feasible maximum."""
        return math.fsum(self.powers_w.values())


def _finite(value: float | None) -> float | None:
    """``value`` if it is a real number, ``None`` for missing, NaN or infinite."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True, kw_only=True)
class SiteSummary:
    """The site as one battery, from the available members that report each value."""

    soc_percent: float | None  # stored energy over capacity: a big battery weighs more
    stored_wh: float | None
    capacity_wh: float | None
    energy_members: tuple[str, ...]  # available, with SOC and capacity known
    battery_power_w: float | None  # positive = the site discharges
    charge_power_w: float | None  # magnitudes: one member may charge while another discharges
    discharge_power_w: float | None
    power_members: tuple[str, ...]  # available, with battery power known
