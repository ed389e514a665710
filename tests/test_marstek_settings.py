"""Write-only Marstek settings: stored, restored, and damaged files read field by field."""

from __future__ import annotations

from datetime import UTC, datetime, time

from custom_components.vebus_marstek.marstek import ManualSlot, PassiveRequest
from custom_components.vebus_marstek.marstek_settings import WrittenSettings

SLOT = ManualSlot(
    slot=3,
    start=time(7, 0),
    end=time(8, 30),
    weekdays=frozenset({0, 4}),
    power_w=-600,
    enabled=True,
)


def test_every_setting_survives_the_store() -> None:
    written = WrittenSettings(
        dod=60,
        led=False,
        ble_advertising=True,
        passive=PassiveRequest(
            power_w=720, duration_s=3600, ends_at=datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
        ),
    ).with_slot(SLOT)
    assert WrittenSettings.from_dict(written.as_dict()) == written


def test_a_later_write_of_a_slot_replaces_the_earlier_one() -> None:
    cleared = ManualSlot(
        slot=3, start=time(0, 0), end=time(0, 0), weekdays=frozenset(), power_w=0, enabled=False
    )
    settings = WrittenSettings().with_slot(SLOT).with_slot(cleared)
    assert settings.manual_slots == {3: cleared}


def test_damaged_fields_are_left_unknown() -> None:
    good_slot = WrittenSettings().with_slot(SLOT).as_dict()["manual_slots"]
    assert isinstance(good_slot, dict)
    restored = WrittenSettings.from_dict(
        {
            "dod": True,  # a bool is not a percentage
            "led": "off",
            "passive": {"power_w": 720, "ends_at": "2026-11-21T12:00:00"},  # no time zone
            "manual_slots": {
                **good_slot,
                "4": {"slot": 4, "start": "25:00", "end": "08:00", "weekdays": [0]},
                "5": {**good_slot["3"], "slot": 5, "weekdays": [7]},
                "6": "garbage",
            },
        }
    )
    assert restored == WrittenSettings().with_slot(SLOT)
    assert WrittenSettings.from_dict({"passive": {"power_w": True, "ends_at": "x"}}).passive is None
