"""A site's members as the site core sees them: read from their own coordinators.

Each family says what it knows in its own terms; this is the one place that turns either
into a :class:`~.site.Member` and its lifetime battery totals. Nothing here asks a device
anything: the members' coordinators poll, the site reads what they hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .const import CONF_BATTERY_CAPACITY
from .coordinator import EnergyCounter, MarstekCoordinator, VebusCoordinator, option_number
from .site import Member
from .vebus import RamVar, Reads, ram_read, soc

# What a site needs a VE.Bus unit to read besides the energy totals' values.
VEBUS_SITE_READS: Reads = frozenset({ram_read(RamVar.SOC)})


@dataclass(frozen=True, kw_only=True)
class MemberReading:
    """One member now: as the split and the summary see it, and its lifetime totals."""

    member: Member
    title: str  # the member entry's, for log lines
    charge_wh: float | None
    discharge_wh: float | None


def offline_member(member_id: str, title: str | None = None) -> MemberReading:
    """A member whose entry is not loaded: it contributes nothing, and keeps its totals."""
    return MemberReading(
        member=Member(
            member_id=member_id,
            available=False,
            soc_percent=None,
            capacity_wh=None,
            battery_power_w=None,
            max_charge_w=0.0,
            max_discharge_w=0.0,
        ),
        title=title or member_id,
        charge_wh=None,
        discharge_wh=None,
    )


def marstek_member(member_id: str, coordinator: MarstekCoordinator) -> MemberReading:
    """A Marstek battery: its SOC, rated capacity and battery power as its sensors show them."""
    data = coordinator.data
    if data is None or not coordinator.last_update_success:
        return offline_member(member_id, coordinator.config_entry.title)
    es, battery = data.es, data.battery
    max_power_w = float(coordinator.profile.max_power_w)
    # The depth of discharge written from Home Assistant: the battery stops at 100 - DOD %.
    dod = coordinator.settings.dod
    return _reading(
        Member(
            member_id=member_id,
            available=True,
            soc_percent=es.soc if es else None,
            capacity_wh=battery.rated_capacity_wh if battery else None,
            battery_power_w=es.battery_power_w if es else None,
            max_charge_w=max_power_w,
            max_discharge_w=max_power_w,
            floor_soc_percent=0.0 if dod is None else 100.0 - dod,
            can_follow=coordinator.profile.accepts_passive,
        ),
        coordinator.config_entry.title,
        data.energy,
    )


def vebus_member(member_id: str, coordinator: VebusCoordinator) -> MemberReading:
    """A VE.Bus unit: SOC from its battery monitor, the capacity its owner entered."""
    data = coordinator.data
    if data is None or data.asleep or not coordinator.last_update_success:
        return offline_member(member_id, coordinator.config_entry.title)
    capacity_kwh = option_number(coordinator.config_entry.options, CONF_BATTERY_CAPACITY, 0.0)
    status = data.status
    return _reading(
        Member(
            member_id=member_id,
            available=True,
            soc_percent=soc(status),
            capacity_wh=capacity_kwh * 1000 if capacity_kwh > 0 else None,
            battery_power_w=status.battery_power,
            # Not driven by the site yet: no limits to respect.
            max_charge_w=0.0,
            max_discharge_w=0.0,
            can_follow=coordinator.unit.ess_setpoint_id is not None,
        ),
        coordinator.config_entry.title,
        data.energy,
    )


def _reading(
    member: Member, title: str, energy: Mapping[EnergyCounter, float | None]
) -> MemberReading:
    return MemberReading(
        member=member,
        title=title,
        charge_wh=energy.get(EnergyCounter.BATTERY_CHARGED),
        discharge_wh=energy.get(EnergyCounter.BATTERY_DISCHARGED),
    )
