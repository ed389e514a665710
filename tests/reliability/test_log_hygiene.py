"""Log hygiene: at INFO and above, no MAC address, serial number, SSID or port path.

Both kinds are set up as a user would have them (the titles the config flow gives; a VE.Bus
unit on a /dev/serial/by-id/... path, here a link to a pseudo-terminal), polled a few times,
and taken through outages: a battery that goes silent, a unit that sleeps, a port that
disappears and comes back.
"""

from __future__ import annotations

from collections.abc import Generator
import logging
from pathlib import Path
import re
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulators.marstek import MarstekSimulator
from tests.conftest import (
    SIM_HOST,
    SIM_MAC,
    VEBUS_SERIAL,
    make_entry,
    make_vebus_entry,
    make_vebus_simulator,
    refresh,
    vebus_refresh,
)

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

SSID = "Attic-WLAN-7f3k"
MK3_USB_SERIAL = "HQ1929XYZAB"
BY_ID_NAME = f"usb-VictronEnergy_MK3-USB_Interface_{MK3_USB_SERIAL}-if00-port0"
# Any MAC address written with separators, whoever it belongs to.
ANY_MAC = re.compile(r"\b[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}\b", re.IGNORECASE)


def mac_spellings(mac: str) -> list[str]:
    """A MAC as bare hex and with ':', '-' or '.' separators, in lower and upper case."""
    octets = [mac[i : i + 2] for i in range(0, 12, 2)]
    spellings = [
        mac,
        ":".join(octets),
        "-".join(octets),
        ".".join(mac[i : i + 4] for i in (0, 4, 8)),
    ]
    return [spelling for text in spellings for spelling in (text.lower(), text.upper())]


@pytest.fixture
def quick_sleep() -> Generator[None]:
    """A silent MK3 counts as asleep after 0.3 s instead of 5."""
    with patch("custom_components.vebus_marstek.vebus.client.SILENCE_MEANS_ASLEEP_S", 0.3):
        yield


class Scenario:
    """Both kinds set up, polled and taken through outages; what was logged at INFO+."""

    def __init__(self, hass: HomeAssistant, port: int, link: Path) -> None:
        self.hass = hass
        self.port = port
        self.link = link
        self.battery = MarstekSimulator(
            profile="venus-e3", host=SIM_HOST, port=port, ble_mac=SIM_MAC, seed=1, ssid=SSID
        )
        self.unit = make_vebus_simulator("multiplus-ii-48-3000")

    async def _point_link(self) -> None:
        pty = await self.unit.start_pty()
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(pty)

    async def run(self) -> None:
        await self.battery.start()
        battery_entry = make_entry(self.port)
        unit_entry = make_vebus_entry(str(self.link), options={"request_timeout": 0.1})
        try:
            battery_entry.add_to_hass(self.hass)
            self.hass.config_entries.async_update_entry(
                battery_entry, options={**battery_entry.options, "request_timeout": 0.05}
            )
            assert await self.hass.config_entries.async_setup(battery_entry.entry_id)
            unit_entry.add_to_hass(self.hass)
            # Home Assistant starts before the MK3 is plugged in: the entry waits for it.
            assert not await self.hass.config_entries.async_setup(unit_entry.entry_id)
            assert unit_entry.state is ConfigEntryState.SETUP_RETRY
            await self._point_link()
            assert await self.hass.config_entries.async_reload(unit_entry.entry_id)
            await self.hass.async_block_till_done()
            await refresh(battery_entry, 3)  # every tier: Wi-Fi (SSID), BLE and device (MACs)
            await vebus_refresh(unit_entry, 2)
            await self._outages(battery_entry, unit_entry)
        finally:
            for entry in (battery_entry, unit_entry):
                await self.hass.config_entries.async_unload(entry.entry_id)
            await self.battery.stop()
            await self.unit.stop()

    async def _outages(self, battery_entry: MockConfigEntry, unit_entry: MockConfigEntry) -> None:
        self.battery.faults.silent = True
        await refresh(battery_entry, 3)  # unavailable after the third
        self.battery.faults.silent = False
        await refresh(battery_entry)
        self.unit.faults.asleep = True
        await vebus_refresh(unit_entry, 3)
        self.unit.faults.asleep = False
        await vebus_refresh(unit_entry)
        self.unit.faults.disconnect()  # the USB cable is pulled: the pty goes away
        await self.hass.async_block_till_done()
        await vebus_refresh(unit_entry, 2)
        await self._point_link()  # plugged in again
        await vebus_refresh(unit_entry, 2)
        assert unit_entry.runtime_data.last_update_success
        assert battery_entry.runtime_data.last_update_success


def _logged(records: list[logging.LogRecord]) -> list[str]:
    """What the integration and Home Assistant logged at INFO and above (simulators aside)."""
    lines = []
    for record in records:
        if record.levelno < logging.INFO or record.name.startswith("simulators"):
            continue
        text = record.getMessage()
        if record.exc_info:
            text += f" {record.exc_info[1]!r}"
        lines.append(text)
    return lines


IDENTIFIERS = ["mac", "ssid", "serial_number", "port_path"]


@pytest.mark.usefixtures("quick_sleep")
@pytest.mark.parametrize("identifier", IDENTIFIERS)
async def test_no_identifiers_in_logs(
    hass: HomeAssistant,
    port: int,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    identifier: str,
) -> None:
    """Nothing that identifies the owner's devices or network reaches the log at INFO+."""
    caplog.set_level(logging.INFO)
    by_id = tmp_path / "dev" / "serial" / "by-id"
    by_id.mkdir(parents=True)
    scenario = Scenario(hass, port, by_id / BY_ID_NAME)
    await scenario.run()
    lines = _logged(caplog.records)
    # The outages were logged: both devices went and came back, the unit slept and woke.
    for said in ("Error fetching", "data recovered", "is silent", "answers again"):
        assert any(said in line for line in lines), said
    state = scenario.battery.state
    forbidden: list[str] = {
        "mac": [
            spelling
            for mac in (state.ble_mac, state.wifi_mac, state.ap_bssid)
            for spelling in mac_spellings(mac)
        ],
        "ssid": [SSID],
        "serial_number": [VEBUS_SERIAL, VEBUS_SERIAL.lower()],
        "port_path": [str(scenario.link), BY_ID_NAME, MK3_USB_SERIAL, "by-id"],
    }[identifier]
    leaks = [line for line in lines if any(text in line for text in forbidden)]
    if identifier == "mac":
        leaks += [line for line in lines if ANY_MAC.search(line)]
    assert leaks == []
