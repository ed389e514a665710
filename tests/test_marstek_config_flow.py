"""Marstek config flow: manual address, scan, discovery, DHCP, reconfigure and options."""

from __future__ import annotations

from collections.abc import Generator
import socket
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_DHCP, SOURCE_INTEGRATION_DISCOVERY, SOURCE_USER
from homeassistant.const import CONF_DEVICE, CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import pytest

from custom_components.vebus_marstek import marstek_discovery
from custom_components.vebus_marstek.const import (
    CONF_DEVICE_KIND,
    CONF_FAST_INTERVAL,
    CONF_MEDIUM_INTERVAL,
    CONF_REQUEST_SPACING,
    CONF_REQUEST_TIMEOUT,
    CONF_SLOW_INTERVAL,
    DOMAIN,
)
from e2e.ports import free_udp_port
from simulators.marstek import MarstekSimulator

from .conftest import (
    SECOND_HOST,
    SECOND_MAC,
    SIM_HOST,
    SIM_MAC,
    make_entry,
    make_simulator,
)

pytestmark = pytest.mark.usefixtures("mock_setup_entry", "fast_probes", "default_port_unused")

SILENT_HOST = "127.0.0.9"


@pytest.fixture
def default_port_unused(socket_enabled: None) -> Generator[None]:
    """Scans and DHCP probes also try the default API port: one nothing on this machine uses.

    Otherwise a demo or another program holding UDP 30000 here would answer in the tests.
    """
    with patch.object(marstek_discovery, "DEFAULT_PORT", free_udp_port()):
        yield


@pytest.fixture
def broadcast_to_loopback() -> Generator[None]:
    """Scans reach the simulators instead of the LAN."""
    with patch.object(
        marstek_discovery,
        "async_broadcast_targets",
        AsyncMock(return_value=[SIM_HOST, SECOND_HOST]),
    ):
        yield


async def _start_marstek_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["marstek", "vebus", "site"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "marstek"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "marstek"
    return result["flow_id"]


async def test_manual_host(hass: HomeAssistant, port: int, simulator: MarstekSimulator) -> None:
    """An address that answers becomes an entry named after model and MAC."""
    flow_id = await _start_marstek_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: SIM_HOST, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Venus E 3.0 1ec6"
    assert result["data"] == {CONF_HOST: SIM_HOST, CONF_PORT: port, CONF_DEVICE_KIND: "marstek"}
    assert result["result"].unique_id == "50:37:cd:7f:1e:c6"


async def test_cannot_connect_then_recover(
    hass: HomeAssistant, port: int, simulator: MarstekSimulator
) -> None:
    """Silence shows an error; the right address then works."""
    flow_id = await _start_marstek_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: SILENT_HOST, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: SIM_HOST, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unknown_error(hass: HomeAssistant, port: int) -> None:
    """Anything unexpected is reported as such, and logged."""
    flow_id = await _start_marstek_flow(hass)
    # A DNS label longer than 63 characters cannot even be encoded.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "x" * 70 + ".lan", CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}


async def test_port_in_use(hass: HomeAssistant, port: int) -> None:
    """Another program on the port: a clear error naming it, for a probe and for a scan."""
    flow_id = await _start_marstek_flow(hass)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blocker:
        blocker.bind(("0.0.0.0", port))
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_HOST: SIM_HOST, CONF_PORT: port}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "port_in_use"}
        assert result["description_placeholders"] == {"port": str(port)}
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_PORT: port})
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "port_in_use"}

    async with make_simulator("venus-e3", SIM_HOST, port, SIM_MAC):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_HOST: SIM_HOST, CONF_PORT: port}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_already_configured_updates_host(
    hass: HomeAssistant, port: int, simulator: MarstekSimulator
) -> None:
    """Adding a known battery again only updates its address."""
    entry = make_entry(port, host="127.0.0.50")
    entry.add_to_hass(hass)
    flow_id = await _start_marstek_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: SIM_HOST, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == SIM_HOST


@pytest.mark.usefixtures("broadcast_to_loopback")
async def test_scan_and_pick(hass: HomeAssistant, port: int, simulator: MarstekSimulator) -> None:
    """An empty address scans; configured batteries are not offered."""
    make_entry(port, host=SECOND_HOST, ble_mac=SECOND_MAC).add_to_hass(hass)
    async with make_simulator("venus-a", SECOND_HOST, port, SECOND_MAC):
        flow_id = await _start_marstek_flow(hass)
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_PORT: port})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pick_device"
    options = result["data_schema"].schema[CONF_DEVICE].config["options"]
    assert options == [{"value": "50:37:cd:7f:1e:c6", "label": "Venus E 3.0 1ec6 (127.0.0.2)"}]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_DEVICE: "50:37:cd:7f:1e:c6"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Venus E 3.0 1ec6"
    assert result["data"][CONF_HOST] == SIM_HOST
    assert result["data"][CONF_PORT] == port


@pytest.mark.usefixtures("broadcast_to_loopback")
async def test_scan_finds_nothing(hass: HomeAssistant, port: int) -> None:
    """No answer to the broadcast: abort with advice."""
    flow_id = await _start_marstek_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_PORT: port})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_devices_found"


@pytest.mark.usefixtures("broadcast_to_loopback")
async def test_scan_finds_only_configured(
    hass: HomeAssistant, port: int, simulator: MarstekSimulator
) -> None:
    """Every battery found is set up already: nothing new."""
    make_entry(port).add_to_hass(hass)
    flow_id = await _start_marstek_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_PORT: port})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_devices_found"


def _discovery_data(port: int, host: str = SIM_HOST) -> dict[str, object]:
    return {
        "host": host,
        "port": port,
        "ble_mac": SIM_MAC,
        "device": "VenusE 3.0",
        "firmware": 150,
    }


async def test_integration_discovery_confirm(hass: HomeAssistant, port: int) -> None:
    """A battery from the background scan is added only after confirmation."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=_discovery_data(port)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"] == {
        "name": "Venus E 3.0 1ec6",
        "host": SIM_HOST,
        "port": str(port),
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_HOST: SIM_HOST, CONF_PORT: port, CONF_DEVICE_KIND: "marstek"}


async def test_integration_discovery_updates_address(hass: HomeAssistant, port: int) -> None:
    """A known battery found at a new address is followed."""
    entry = make_entry(port, host="127.0.0.50")
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=_discovery_data(port)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == SIM_HOST


def _dhcp(ip: str) -> DhcpServiceInfo:
    return DhcpServiceInfo(ip=ip, hostname="marstek-venus", macaddress="60cf84123456")


async def test_dhcp_updates_registered_battery(
    hass: HomeAssistant, port: int, simulator: MarstekSimulator
) -> None:
    """A registered battery with a new lease gets its address updated."""
    entry = make_entry(port, host="127.0.0.50")
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp(SIM_HOST)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == SIM_HOST


async def test_dhcp_new_battery(hass: HomeAssistant, port: int) -> None:
    """A new battery seen by DHCP is offered for confirmation (on any port in use)."""
    make_entry(port, host=SECOND_HOST, ble_mac=SECOND_MAC).add_to_hass(hass)
    async with make_simulator("venus-e3", SIM_HOST, port, SIM_MAC):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp(SIM_HOST)
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "discovery_confirm"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == SIM_HOST
    assert result["data"][CONF_PORT] == port


async def test_dhcp_not_a_battery(hass: HomeAssistant, port: int) -> None:
    """Something that does not answer the Open API is ignored."""
    make_entry(port, host=SECOND_HOST, ble_mac=SECOND_MAC).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp(SILENT_HOST)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_reconfigure(hass: HomeAssistant, port: int, simulator: MarstekSimulator) -> None:
    """A new address that answers with the same battery is saved; errors are shown first."""
    entry = make_entry(port, host="127.0.0.50")
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: SILENT_HOST, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: SIM_HOST, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == SIM_HOST


async def test_reconfigure_other_battery(
    hass: HomeAssistant, port: int, simulator: MarstekSimulator
) -> None:
    """Another battery at the new address is refused."""
    entry = make_entry(port, host="127.0.0.50", ble_mac=SECOND_MAC)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: SIM_HOST, CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_HOST] == "127.0.0.50"


async def test_options(hass: HomeAssistant, port: int) -> None:
    """The polling options are saved; options without a field are kept."""
    entry = make_entry(port)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_FAST_INTERVAL: 45,
            CONF_MEDIUM_INTERVAL: 90,
            CONF_SLOW_INTERVAL: 600,
            CONF_REQUEST_SPACING: 3,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_FAST_INTERVAL] == 45
    assert entry.options[CONF_REQUEST_SPACING] == 3
    assert entry.options[CONF_REQUEST_TIMEOUT] == 0.15
