"""Marstek settings the battery cannot report back, as last written from Home Assistant.

They are stored with the energy totals and survive restarts; what was stored by an older or
damaged file is dropped field by field instead of failing the setup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from typing import TypedDict, TypeGuard

from homeassistant.util import dt as dt_util

from .marstek import ManualSlot, PassiveRequest

type JsonValue = str | int | float | bool | None | list[JsonValue] | dict[str, JsonValue]


@dataclass(frozen=True, kw_only=True)
class WrittenSettings:
    """Write-only device settings (unknown until written once)."""

    dod: int | None = None
    led: bool | None = None
    ble_advertising: bool | None = None
    passive: PassiveRequest | None = None
    manual_slots: Mapping[int, ManualSlot] = field(default_factory=dict)

    def with_slot(self, slot: ManualSlot) -> WrittenSettings:
        """These settings after ``slot`` was written."""
        return replace(self, manual_slots={**self.manual_slots, slot.slot: slot})

    def as_dict(self) -> dict[str, JsonValue]:
        """A JSON-ready form, for the store and for diagnostics."""
        passive: JsonValue = None
        if self.passive is not None:
            passive = {
                "power_w": self.passive.power_w,
                "duration_s": self.passive.duration_s,
                "ends_at": self.passive.ends_at.isoformat(),
            }
        return {
            "dod": self.dod,
            "led": self.led,
            "ble_advertising": self.ble_advertising,
            "passive": passive,
            "manual_slots": {
                str(number): _slot_as_dict(slot)
                for number, slot in sorted(self.manual_slots.items())
            },
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, object]) -> WrittenSettings:
        """Settings from the store; anything unreadable is left unknown."""
        dod = stored.get("dod")
        led = stored.get("led")
        ble = stored.get("ble_advertising")
        slots = stored.get("manual_slots")
        manual_slots: dict[int, ManualSlot] = {}
        if isinstance(slots, dict):
            for saved in slots.values():
                if (slot := _slot_from_dict(saved)) is not None:
                    manual_slots[slot.slot] = slot
        return cls(
            dod=dod if _is_whole(dod) else None,
            led=led if isinstance(led, bool) else None,
            ble_advertising=ble if isinstance(ble, bool) else None,
            passive=_passive_from_dict(stored.get("passive")),
            manual_slots=manual_slots,
        )


class SettingsUpdate(TypedDict, total=False):
    """A successful write of write-only settings."""

    dod: int
    led: bool
    ble_advertising: bool
    passive: PassiveRequest


def _is_whole(value: object) -> TypeGuard[int]:
    """An int that is not a bool (JSON true/false load as bools, which are ints)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _slot_as_dict(slot: ManualSlot) -> dict[str, JsonValue]:
    return {
        "slot": slot.slot,
        "start": slot.start.strftime("%H:%M"),
        "end": slot.end.strftime("%H:%M"),
        "weekdays": list[JsonValue](sorted(slot.weekdays)),
        "power_w": slot.power_w,
        "enabled": slot.enabled,
    }


def _slot_from_dict(saved: object) -> ManualSlot | None:
    if not isinstance(saved, dict):
        return None
    number, power, enabled = saved.get("slot"), saved.get("power_w"), saved.get("enabled")
    days = saved.get("weekdays")
    start, end = _hh_mm(saved.get("start")), _hh_mm(saved.get("end"))
    if not (
        isinstance(number, int)
        and isinstance(power, int)
        and isinstance(enabled, bool)
        and isinstance(days, list)
        and all(isinstance(day, int) and 0 <= day <= 6 for day in days)
        and start is not None
        and end is not None
    ):
        return None
    return ManualSlot(
        slot=number,
        start=start,
        end=end,
        weekdays=frozenset(days),
        power_w=power,
        enabled=enabled,
    )


def _hh_mm(text: object) -> time | None:
    if not isinstance(text, str):
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        return None


def _passive_from_dict(saved: object) -> PassiveRequest | None:
    if not isinstance(saved, dict):
        return None
    power, duration, ends_at = saved.get("power_w"), saved.get("duration_s"), saved.get("ends_at")
    parsed = dt_util.parse_datetime(ends_at) if isinstance(ends_at, str) else None
    if not (_is_whole(power) and _is_whole(duration)):
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return PassiveRequest(power_w=power, duration_s=duration, ends_at=parsed)
