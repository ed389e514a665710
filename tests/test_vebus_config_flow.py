"""VE.Bus config flow: port list, manual path or URL, USB discovery, reconfigure, options."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USB, SOURCE_USER
from homeassistant.const import CONF_DEVICE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.usb import UsbServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.vebus_marstek import config_flow
from custom_components.vebus_marstek.const import (
    CONF_DEVICE_KIND,
    CONF_FAST_INTERVAL,
    CONF_PERSIST_SETTINGS,
    CONF_POLL_INTERVAL,
    CONF_REQUEST_TIMEOUT,
    CONF_STANDBY,
    DOMAIN,
)
from custom_components.vebus_marstek.vebus import SerialPort, VebusClient
from simulators.vebus import VebusSimulator

from .conftest import VEBUS_SERIAL, make_vebus_entry, make_vebus_simulator

pytestmark = [
    pytest.mark.enable_socket,
    pytest.mark.usefixtures("socket_enabled", "mock_setup_entry"),
]

MISSING = "/dev/serial/by-id/usb-VictronEnergy_MK3-USB_Interface_HQ0000-if00-port0"


def _port(device: str, serial_number: str | None = "FT4ABCDE") -> SerialPort:
    return SerialPort(
        device=device,
        by_id=None,
        vid=0x0403,
        pid=0x6015,
        serial_number=serial_number,
        manufacturer="VictronEnergy BV",
        product="MK3-USB Interface",
    )


@pytest.fixture
def ports() -> Generator[list[SerialPort]]:
    """The serial ports the machine has (none unless a test adds some)."""
    found: list[SerialPort] = []
    with patch.object(config_flow, "list_ports", lambda: list(found)):
        yield found


@pytest.fixture
async def pty_simulator() -> AsyncIterator[VebusSimulator]:
    """The simulated MK3 on a pseudo-terminal, like a local USB serial port."""
    sim = make_vebus_simulator("multiplus-ii-48-3000")
    await sim.start_pty()
    yield sim
    await sim.stop()


async def _start(hass: HomeAssistant) -> dict[str, object]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["marstek", "vebus", "site"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "vebus"}
    )


async def test_pick_port(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, ports: list[SerialPort]
) -> None:
    """The ports found are offered (and a manual entry); the picked one is probed."""
    assert vebus_simulator.url is not None
    ports.append(_port(vebus_simulator.url))
    result = await _start(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "vebus"
    options = result["data_schema"].schema[CONF_DEVICE].config["options"]
    assert [option["value"] for option in options] == [vebus_simulator.url, "manual"]
    assert options[0]["label"].startswith("MK3-USB Interface - VictronEnergy BV (FT4ABCDE)")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: vebus_simulator.url}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # The serial number is the unique id; the title (and so the entity ids) show its end.
    assert result["title"] == "Victron VE.Bus BCDE"
    assert result["data"] == {CONF_DEVICE: vebus_simulator.url, CONF_DEVICE_KIND: "vebus"}
    assert result["result"].unique_id == VEBUS_SERIAL
    assert vebus_simulator.dangerous == []


async def test_port_errors_then_recover(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, ports: list[SerialPort]
) -> None:
    """A port that does not open, and a unit that sleeps, are told apart."""
    assert vebus_simulator.url is not None
    ports.extend([_port(MISSING), _port(vebus_simulator.url)])
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: MISSING}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    vebus_simulator.faults.asleep = True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: vebus_simulator.url}
    )
    assert result["errors"] == {"base": "unit_silent"}
    vebus_simulator.faults.asleep = False
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: vebus_simulator.url}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_manual_url(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, ports: list[SerialPort]
) -> None:
    """A ser2net URL typed by hand; an unexpected error on the way is reported and logged."""
    assert vebus_simulator.url is not None
    ports.append(_port(MISSING))
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: "manual"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "vebus_manual"
    # Only an unforeseen failure inside the client can cause this; nothing else is mocked.
    with patch.object(VebusClient, "connect", side_effect=RuntimeError("boom")):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_DEVICE: vebus_simulator.url}
        )
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: f" {vebus_simulator.url} "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_DEVICE] == vebus_simulator.url


async def test_no_ports_goes_to_manual(
    hass: HomeAssistant, pty_simulator: VebusSimulator, ports: list[SerialPort]
) -> None:
    """Without any serial port the flow asks for a path straight away; a pty works."""
    result = await _start(hass)
    assert result["step_id"] == "vebus_manual"
    assert pty_simulator.pty_path is not None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: pty_simulator.pty_path}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_DEVICE] == pty_simulator.pty_path


@pytest.mark.parametrize(
    ("vebus_model", "usb_serial", "expected"),
    [("multiplus-12-500", "FT4ABCDE", "FT4ABCDE"), ("multiplus-12-500", None, "url")],
)
async def test_unique_id_without_unit_serial(
    hass: HomeAssistant,
    vebus_simulator: VebusSimulator,
    ports: list[SerialPort],
    usb_serial: str | None,
    expected: str,
) -> None:
    """Old firmware has no serial number: the interface's USB serial, else the URL."""
    assert vebus_simulator.url is not None
    ports.append(_port(vebus_simulator.url, usb_serial))
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: vebus_simulator.url}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Victron VE.Bus"
    unique_id = vebus_simulator.url if expected == "url" else expected
    assert result["result"].unique_id == unique_id


async def test_already_configured_updates_path(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, ports: list[SerialPort]
) -> None:
    """The same unit on another port: only the path changes."""
    assert vebus_simulator.url is not None
    entry = make_vebus_entry(MISSING)
    entry.add_to_hass(hass)
    ports.append(_port(vebus_simulator.url))
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: vebus_simulator.url}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_DEVICE] == vebus_simulator.url


async def test_port_of_configured_unit_not_opened(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, ports: list[SerialPort]
) -> None:
    """Picking the port a configured unit uses aborts before the port is touched."""
    assert vebus_simulator.url is not None
    make_vebus_entry(vebus_simulator.url).add_to_hass(hass)
    ports.append(_port(vebus_simulator.url))
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: vebus_simulator.url}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert vebus_simulator.frames_received == []


def _usb(device: str) -> UsbServiceInfo:
    return UsbServiceInfo(
        device=device,
        vid="0403",
        pid="6015",
        serial_number="FT4ABCDE",
        manufacturer="VictronEnergy BV",
        description="MK3-USB Interface",
    )


async def test_usb_discovery(hass: HomeAssistant, pty_simulator: VebusSimulator) -> None:
    """A plugged-in MK3 is probed and offered, and added only after confirmation."""
    assert pty_simulator.pty_path is not None
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_usb(pty_simulator.pty_path)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "usb_confirm"
    assert result["description_placeholders"] == {
        "name": "Victron VE.Bus BCDE",
        "device": pty_simulator.pty_path,
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_DEVICE: pty_simulator.pty_path, CONF_DEVICE_KIND: "vebus"}
    assert result["result"].unique_id == VEBUS_SERIAL


async def test_usb_discovery_follows_known_unit(
    hass: HomeAssistant, pty_simulator: VebusSimulator
) -> None:
    """A configured unit seen on a new port gets its path updated."""
    assert pty_simulator.pty_path is not None
    entry = make_vebus_entry(MISSING)
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_usb(pty_simulator.pty_path)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_DEVICE] == pty_simulator.pty_path


async def test_usb_discovery_port_in_use(hass: HomeAssistant) -> None:
    """A port an entry already uses is never opened by discovery."""
    make_vebus_entry(MISSING).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_usb(MISSING)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_usb_discovery_unit_silent(
    hass: HomeAssistant, pty_simulator: VebusSimulator
) -> None:
    """An MK3 with a sleeping unit behind it: abort with advice."""
    assert pty_simulator.pty_path is not None
    pty_simulator.faults.asleep = True
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_usb(pty_simulator.pty_path)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unit_silent"


async def test_reconfigure(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, ports: list[SerialPort]
) -> None:
    """A new path that reaches the same unit is saved; errors are shown first."""
    assert vebus_simulator.url is not None
    entry = make_vebus_entry(MISSING)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_vebus"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: "/dev/ttyUSB_nonexistent"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: vebus_simulator.url}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_DEVICE] == vebus_simulator.url


async def test_reconfigure_other_unit(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, ports: list[SerialPort]
) -> None:
    """Another unit on the new port is refused."""
    assert vebus_simulator.url is not None
    entry = make_vebus_entry(MISSING, unique_id="HQ9999ZZZZZ")
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: vebus_simulator.url}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_unit"
    assert entry.data[CONF_DEVICE] == MISSING


async def test_options(hass: HomeAssistant) -> None:
    """Both tier periods, standby and persistence are saved; hidden tuning options are kept."""
    entry: MockConfigEntry = make_vebus_entry(MISSING)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "vebus"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_FAST_INTERVAL: 2,
            CONF_POLL_INTERVAL: 10,
            CONF_STANDBY: True,
            CONF_PERSIST_SETTINGS: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_FAST_INTERVAL] == 2
    assert entry.options[CONF_POLL_INTERVAL] == 10
    assert entry.options[CONF_STANDBY] is True
    assert entry.options[CONF_REQUEST_TIMEOUT] == 0.2
