"""Site energy totals and the site seen as one battery.

The site's charge and discharge energies add up what each member moved since it joined the
site, from the member's own lifetime totals passed through :class:`~..energy.MonotonicTotal`:
a member that goes offline keeps its last total in the sum, a member whose total drops (its
own reset, a glitch) cannot make the site total drop, and a member joining the site (or first
answering after the site was created) adds from zero instead of its whole lifetime at once, so
Home Assistant never sees a meter reset of the site nor a jump that never happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import math

# The one module outside the package it may use: it has no Home Assistant import either.
from ..energy import MonotonicTotal, stored_number  # noqa: TID252
from .models import Member, SiteSummary


class _MemberTotal:
    """One member's lifetime total, and where it stood when the member joined the site."""

    def __init__(self, total: MonotonicTotal | None = None, joined_at: float | None = None):
        self.total = total or MonotonicTotal()
        # A total restored without its starting point counted in full before: keep it so.
        self.joined_at = joined_at if joined_at is not None or total is None else 0.0

    def update(self, raw: float | None, now: float) -> None:
        self.total.update(raw, now)
        if self.joined_at is None:
            self.joined_at = self.total.value

    @property
    def since_joined(self) -> float | None:
        value = self.total.value
        if value is None or self.joined_at is None:
            return None
        return max(value - self.joined_at, 0.0)

    def as_dict(self) -> dict[str, float | None]:
        return {**self.total.as_dict(), "joined_at": self.joined_at}

    @classmethod
    def from_dict(cls, data: object) -> _MemberTotal:
        if not isinstance(data, Mapping):
            return cls()
        total = MonotonicTotal.from_dict(data)
        return cls(total if total.value is not None else None, stored_number(data.get("joined_at")))


class SiteTotals:
    """Charge and discharge energy (Wh) the site's batteries moved, never decreasing."""

    def __init__(self) -> None:
        self._charge: dict[str, _MemberTotal] = {}
        self._discharge: dict[str, _MemberTotal] = {}
        # Members taken out of the site leave what they contributed here.
        self._retired_charge_wh = 0.0
        self._retired_discharge_wh = 0.0

    def update(
        self,
        member_id: str,
        *,
        charge_wh: float | None,
        discharge_wh: float | None,
        now: float,
    ) -> None:
        """Take a member's lifetime totals read at ``now`` (monotonic seconds); None = unknown."""
        self._charge.setdefault(member_id, _MemberTotal()).update(charge_wh, now)
        self._discharge.setdefault(member_id, _MemberTotal()).update(discharge_wh, now)

    def retire(self, member_id: str) -> None:
        """Take a member out of the site; what it contributed stays in the totals."""
        charge = self._charge.pop(member_id, None)
        discharge = self._discharge.pop(member_id, None)
        self._retired_charge_wh += (charge and charge.since_joined) or 0.0
        self._retired_discharge_wh += (discharge and discharge.since_joined) or 0.0

    @property
    def charge_wh(self) -> float | None:
        """Energy into the site's batteries; None until some member has reported it."""
        return _sum(self._retired_charge_wh, self._charge)

    @property
    def discharge_wh(self) -> float | None:
        """Energy out of the site's batteries; None until some member has reported it."""
        return _sum(self._retired_discharge_wh, self._discharge)

    def throughput_wh(self, member_id: str) -> float | None:
        """What one member charged plus discharged since it joined; None until it reported both.

        Rotation by throughput evens this out, so it counts from the same start as the totals:
        a battery's life before the site says nothing about the work the site gave it.
        """
        charged = _value(self._charge, member_id)
        discharged = _value(self._discharge, member_id)
        return None if charged is None or discharged is None else charged + discharged

    @property
    def members(self) -> tuple[str, ...]:
        """The members whose totals are in the sums (reported once at least, not retired)."""
        known = {**self._charge, **self._discharge}
        return tuple(
            member_id
            for member_id in known
            if _value(self._charge, member_id) is not None
            or _value(self._discharge, member_id) is not None
        )

    def as_dict(self) -> dict[str, object]:
        """What to persist: plain JSON types."""
        return {
            "members": {
                member_id: {
                    "charge": self._charge[member_id].as_dict(),
                    "discharge": self._discharge[member_id].as_dict(),
                }
                for member_id in self._charge
            },
            "retired": {
                "charge_wh": self._retired_charge_wh,
                "discharge_wh": self._retired_discharge_wh,
            },
        }

    @classmethod
    def from_dict(cls, data: object) -> SiteTotals:
        """Restore from :meth:`as_dict`; whatever is unreadable starts empty instead of failing."""
        totals = cls()
        if not isinstance(data, Mapping):
            return totals
        members = data.get("members")
        for member_id, stored in (members if isinstance(members, Mapping) else {}).items():
            if not isinstance(member_id, str) or not isinstance(stored, Mapping):
                continue
            totals._charge[member_id] = _MemberTotal.from_dict(stored.get("charge"))
            totals._discharge[member_id] = _MemberTotal.from_dict(stored.get("discharge"))
        retired = data.get("retired")
        if isinstance(retired, Mapping):
            totals._retired_charge_wh = stored_number(retired.get("charge_wh")) or 0.0
            totals._retired_discharge_wh = stored_number(retired.get("discharge_wh")) or 0.0
        return totals


def summarise(members: Sequence[Member]) -> SiteSummary:
    """The site as one battery: SOC weighted by capacity, powers summed, available members only."""
    stored: list[float] = []
    capacities: list[float] = []
    energy_members: list[str] = []
    powers: list[float] = []
    power_members: list[str] = []
    for member in members:
        if not member.available:
            continue
        soc, capacity = member.known_soc, member.known_capacity_wh
        if soc is not None and capacity is not None:
            stored.append(min(max(soc, 0.0), 100.0) / 100 * capacity)
            capacities.append(capacity)
            energy_members.append(member.member_id)
        power = member.battery_power_w
        if power is not None and math.isfinite(power):
            powers.append(power)
            power_members.append(member.member_id)

    stored_wh = math.fsum(stored) if stored else None
    capacity_wh = math.fsum(capacities) if capacities else None
    return SiteSummary(
        soc_percent=(
            None if stored_wh is None or not capacity_wh else 100 * stored_wh / capacity_wh
        ),
        stored_wh=stored_wh,
        capacity_wh=capacity_wh,
        energy_members=tuple(energy_members),
        battery_power_w=math.fsum(powers) if powers else None,
        charge_power_w=math.fsum(-p for p in powers if p < 0) if powers else None,
        discharge_power_w=math.fsum(p for p in powers if p > 0) if powers else None,
        power_members=tuple(power_members),
    )


def _value(totals: Mapping[str, _MemberTotal], member_id: str) -> float | None:
    total = totals.get(member_id)
    return None if total is None else total.since_joined


def _sum(retired_wh: float, totals: Mapping[str, _MemberTotal]) -> float | None:
    values = [value for total in totals.values() if (value := total.since_joined) is not None]
    if not values and not retired_wh:
        return None
    return round(retired_wh + math.fsum(values), 3)
