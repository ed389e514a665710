"""Config, discovery, reconfigure and options flows for both device kinds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN, SensorDeviceClass
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import (
    CONF_DEVICE,
    CONF_HOST,
    CONF_NAME,
    CONF_PORT,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import callback
from homeassistant.helpers import selector
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.service_info.usb import UsbServiceInfo
from homeassistant.helpers.typing import DiscoveryInfoType
import voluptuous as vol

from .const import (
    CONF_BATTERY_CAPACITY,
    CONF_DEVICE_KIND,
    CONF_FAST_INTERVAL,
    CONF_GRID_SENSOR,
    CONF_GRID_SIGN,
    CONF_GRID_STALE_AFTER,
    CONF_MEDIUM_INTERVAL,
    CONF_MEMBERS,
    CONF_PERSIST_SETTINGS,
    CONF_POLL_INTERVAL,
    CONF_PV1_IN_WATTS,
    CONF_REQUEST_SPACING,
    CONF_SITE_MAX_POWER,
    CONF_SLOW_INTERVAL,
    CONF_SPLIT_STRATEGY,
    CONF_STANDBY,
    DEFAULT_FAST_INTERVAL,
    DEFAULT_GRID_STALE_AFTER_S,
    DEFAULT_MEDIUM_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_REQUEST_SPACING,
    DEFAULT_SLOW_INTERVAL,
    DEFAULT_VEBUS_FAST_INTERVAL,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    LOGGER,
    MAX_POLL_INTERVAL,
    MAX_VEBUS_FAST_INTERVAL,
    MIN_POLL_INTERVAL,
    MIN_REQUEST_SPACING,
    MIN_VEBUS_FAST_INTERVAL,
    DeviceKind,
    GridSign,
    entry_kind,
)
from .marstek import DEFAULT_PORT, MarstekError, MarstekPortInUseError
from .marstek_discovery import FoundBattery, async_probe, async_scan, scan_ports
from .site import Strategy
from .vebus import (
    SerialPort,
    UnitInfo,
    VebusClient,
    VebusConnectionError,
    VebusTimeoutError,
    list_ports,
)
from .vebus.ports import by_id_path

# The port list's last entry: a path or URL typed by hand (ser2net, RFC 2217, ESPHome).
MANUAL_ENTRY = "manual"

_PORT_SELECTOR = vol.All(
    selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=1, max=65535, step=1, mode=selector.NumberSelectorMode.BOX
        )
    ),
    vol.Coerce(int),
)


def _connection_schema(*, host_required: bool) -> vol.Schema:
    host_key = vol.Required(CONF_HOST) if host_required else vol.Optional(CONF_HOST)
    return vol.Schema(
        {
            host_key: selector.TextSelector(),
            vol.Required(CONF_PORT, default=DEFAULT_PORT): _PORT_SELECTOR,
        }
    )


def _seconds(minimum: float, maximum: float, step: float = 1) -> vol.All:
    return vol.All(
        selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=minimum,
                max=maximum,
                step=step,
                unit_of_measurement="s",
                mode=selector.NumberSelectorMode.BOX,
            )
        ),
        vol.Coerce(float),
        vol.Range(min=minimum, max=maximum),
    )


OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_FAST_INTERVAL, default=DEFAULT_FAST_INTERVAL): _seconds(10, 3600),
        vol.Required(CONF_MEDIUM_INTERVAL, default=DEFAULT_MEDIUM_INTERVAL): _seconds(10, 3600),
        vol.Required(CONF_SLOW_INTERVAL, default=DEFAULT_SLOW_INTERVAL): _seconds(60, 86400),
        vol.Required(CONF_REQUEST_SPACING, default=DEFAULT_REQUEST_SPACING): _seconds(
            MIN_REQUEST_SPACING, 30, 0.5
        ),
        vol.Required(CONF_PV1_IN_WATTS, default=False): selector.BooleanSelector(),
    }
)


VEBUS_OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_FAST_INTERVAL, default=DEFAULT_VEBUS_FAST_INTERVAL): _seconds(
            MIN_VEBUS_FAST_INTERVAL, MAX_VEBUS_FAST_INTERVAL
        ),
        vol.Required(CONF_POLL_INTERVAL, default=DEFAULT_POLL_INTERVAL): _seconds(
            MIN_POLL_INTERVAL, MAX_POLL_INTERVAL
        ),
        vol.Required(CONF_STANDBY, default=False): selector.BooleanSelector(),
        vol.Required(CONF_PERSIST_SETTINGS, default=False): selector.BooleanSelector(),
        # The MK3 cannot read the inverter's rating: the most a site may ask (W, 0 = never).
        vol.Required(CONF_SITE_MAX_POWER, default=0): vol.All(
            selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=0,
                    max=30000,
                    step=100,
                    unit_of_measurement=UnitOfPower.WATT,
                    mode=selector.NumberSelectorMode.BOX,
                )
            ),
            vol.Coerce(float),
            vol.Range(min=0, max=30000),
        ),
        # The MK3 cannot read the battery's capacity; a site needs it (kWh, 0 = not known).
        vol.Required(CONF_BATTERY_CAPACITY, default=0): vol.All(
            selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=0,
                    max=1000,
                    step=0.1,
                    unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
                    mode=selector.NumberSelectorMode.BOX,
                )
            ),
            vol.Coerce(float),
            vol.Range(min=0, max=1000),
        ),
    }
)

VEBUS_DEVICE_SCHEMA = vol.Schema({vol.Required(CONF_DEVICE): selector.TextSelector()})

SITE_OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SPLIT_STRATEGY, default=Strategy.PROPORTIONAL.value): (
            selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[strategy.value for strategy in Strategy],
                    translation_key=CONF_SPLIT_STRATEGY,
                    mode=selector.SelectSelectorMode.LIST,
                )
            )
        ),
        vol.Required(CONF_GRID_STALE_AFTER, default=DEFAULT_GRID_STALE_AFTER_S): _seconds(10, 600),
    }
)

# The kinds of entry a site groups; a site is never a member.
SITE_MEMBER_KINDS = (DeviceKind.MARSTEK, DeviceKind.VEBUS)
DEFAULT_SITE_NAME = "Home battery"


def _site_schema(members: list[selector.SelectOptionDict], *, with_name: bool) -> vol.Schema:
    """A site's form; the name only when it is added (renaming is Home Assistant's own)."""
    fields: dict[vol.Marker, Any] = {}
    if with_name:
        fields[vol.Required(CONF_NAME, default=DEFAULT_SITE_NAME)] = selector.TextSelector()
    # An empty selection gets the form's own error rather than a schema error.
    fields[vol.Required(CONF_MEMBERS, default=[])] = selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=members, multiple=True, mode=selector.SelectSelectorMode.LIST
        )
    )
    fields[vol.Optional(CONF_GRID_SENSOR)] = selector.EntitySelector(
        selector.EntitySelectorConfig(
            filter=selector.EntityFilterSelectorConfig(
                domain=SENSOR_DOMAIN, device_class=SensorDeviceClass.POWER
            )
        )
    )
    fields[vol.Required(CONF_GRID_SIGN, default=GridSign.IMPORT_POSITIVE.value)] = (
        selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[sign.value for sign in GridSign],
                translation_key=CONF_GRID_SIGN,
                mode=selector.SelectSelectorMode.LIST,
            )
        )
    )
    return vol.Schema(fields)


def _port_of(user_input: Mapping[str, object]) -> int:
    port = user_input[CONF_PORT]
    assert isinstance(port, int)  # coerced by the schema
    return port


class VebusMarstekConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a battery by address, by broadcast scan, or from a discovery."""

    VERSION = ENTRY_VERSION
    MINOR_VERSION = ENTRY_MINOR_VERSION

    def __init__(self) -> None:
        """Nothing found yet."""
        self._scanned: dict[str, FoundBattery] = {}
        self._candidate: FoundBattery | None = None
        self._ports: list[SerialPort] = []
        self._discovered_unit: tuple[str, UnitInfo] | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> _OneFormOptionsFlow:
        """The options of the entry's kind: polling for a device, control for a site."""
        return OPTIONS_FLOWS[entry_kind(config_entry)]()

    async def async_step_user(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Choose the kind of device."""
        return self.async_show_menu(
            step_id="user",
            menu_options=[DeviceKind.MARSTEK.value, DeviceKind.VEBUS.value, DeviceKind.SITE.value],
        )

    async def async_step_marstek(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """A Marstek battery at an address, or a scan when the address is left empty."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            host = str(user_input.get(CONF_HOST, "")).strip()
            port = _port_of(user_input)
            if not host:
                return await self._async_scan_and_pick(port, errors, placeholders)
            if found := await self._async_try_probe(host, port, errors, placeholders):
                await self.async_set_unique_id(found.unique_id)
                self._abort_if_unique_id_configured(updates={CONF_HOST: host, CONF_PORT: port})
                return self._async_create(found)
        return self.async_show_form(
            step_id="marstek",
            data_schema=self.add_suggested_values_to_schema(
                _connection_schema(host_required=False), user_input
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_scan_and_pick(
        self, port: int, errors: dict[str, str], placeholders: dict[str, str]
    ) -> ConfigFlowResult:
        try:
            found = await async_scan(self.hass, port)
        except MarstekPortInUseError:
            errors["base"] = "port_in_use"
            placeholders["port"] = str(port)
            return self.async_show_form(
                step_id="marstek",
                data_schema=self.add_suggested_values_to_schema(
                    _connection_schema(host_required=False), {CONF_PORT: port}
                ),
                errors=errors,
                description_placeholders=placeholders,
            )
        configured = self._async_current_ids(include_ignore=False)
        self._scanned = {
            battery.unique_id: battery for battery in found if battery.unique_id not in configured
        }
        if not self._scanned:
            return self.async_abort(reason="no_devices_found")
        return await self.async_step_pick_device()

    async def async_step_pick_device(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Pick one of the batteries the scan found."""
        if user_input is not None:
            battery = self._scanned[str(user_input[CONF_DEVICE])]
            await self.async_set_unique_id(battery.unique_id, raise_on_progress=False)
            self._abort_if_unique_id_configured()
            return self._async_create(battery)
        options = [
            selector.SelectOptionDict(
                value=battery.unique_id, label=f"{battery.title} ({battery.host})"
            )
            for battery in self._scanned.values()
        ]
        return self.async_show_form(
            step_id="pick_device",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_DEVICE): selector.SelectSelector(
                        selector.SelectSelectorConfig(options=options)
                    )
                }
            ),
        )

    async def async_step_integration_discovery(
        self, discovery_info: DiscoveryInfoType
    ) -> ConfigFlowResult:
        """A battery answered the background scan."""
        battery = FoundBattery(
            host=str(discovery_info["host"]),
            port=int(discovery_info["port"]),
            ble_mac=str(discovery_info["ble_mac"]),
            device=str(discovery_info["device"]),
            firmware=discovery_info.get("firmware"),
        )
        return await self._async_discovered(battery)

    async def async_step_dhcp(self, discovery_info: DhcpServiceInfo) -> ConfigFlowResult:
        """A battery (or something like one) took a DHCP lease: ask it who it is."""
        placeholders: dict[str, str] = {}
        for port in scan_ports(self.hass):
            if found := await self._async_try_probe(discovery_info.ip, port, {}, placeholders):
                return await self._async_discovered(found)
        return self.async_abort(reason="cannot_connect")

    async def _async_discovered(self, battery: FoundBattery) -> ConfigFlowResult:
        await self.async_set_unique_id(battery.unique_id)
        # A known battery at a new address: follow it (the entry reloads).
        self._abort_if_unique_id_configured(
            updates={CONF_HOST: battery.host, CONF_PORT: battery.port}
        )
        self._candidate = battery
        self.context["title_placeholders"] = {"name": battery.title}
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Discovery never adds a battery without the user's consent."""
        assert self._candidate is not None
        if user_input is not None:
            return self._async_create(self._candidate)
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            description_placeholders={
                "name": self._candidate.title,
                "host": self._candidate.host,
                "port": str(self._candidate.port),
            },
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Change the address or API port of a configured battery."""
        entry = self._get_reconfigure_entry()
        if entry_kind(entry) is DeviceKind.VEBUS:
            return await self.async_step_reconfigure_vebus()
        if entry_kind(entry) is DeviceKind.SITE:
            return await self.async_step_reconfigure_site()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            host = str(user_input[CONF_HOST]).strip()
            port = _port_of(user_input)
            if found := await self._async_try_probe(host, port, errors, placeholders):
                await self.async_set_unique_id(found.unique_id)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_HOST: host, CONF_PORT: port}
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _connection_schema(host_required=True), user_input or dict(entry.data)
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_try_probe(
        self, host: str, port: int, errors: dict[str, str], placeholders: dict[str, str]
    ) -> FoundBattery | None:
        """Ask the address who it is; on failure fill ``errors`` and return None."""
        try:
            return await async_probe(host, port)
        except MarstekPortInUseError:
            errors["base"] = "port_in_use"
            placeholders["port"] = str(port)
        except (MarstekError, OSError):
            errors["base"] = "cannot_connect"
        except Exception:
            LOGGER.exception("Unexpected error while probing %s:%s", host, port)
            errors["base"] = "unknown"
        return None

    def _async_create(self, battery: FoundBattery) -> ConfigFlowResult:
        return self.async_create_entry(
            title=battery.title,
            data={
                CONF_HOST: battery.host,
                CONF_PORT: battery.port,
                CONF_DEVICE_KIND: DeviceKind.MARSTEK.value,
            },
        )

    # --- VE.Bus ---------------------------------------------------------------------------

    async def async_step_vebus(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Pick the MK3's serial port, or choose to type a path or URL."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device = str(user_input[CONF_DEVICE])
            if device == MANUAL_ENTRY:
                return await self.async_step_vebus_manual()
            if result := await self._async_add_vebus(device, errors):
                return result
        else:
            self._ports = await self.hass.async_add_executor_job(list_ports)
            if not self._ports:
                return await self.async_step_vebus_manual()
        options = [
            selector.SelectOptionDict(value=port.path, label=port.label) for port in self._ports
        ]
        options.append(selector.SelectOptionDict(value=MANUAL_ENTRY, label=MANUAL_ENTRY))
        return self.async_show_form(
            step_id="vebus",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_DEVICE): selector.SelectSelector(
                        selector.SelectSelectorConfig(
                            options=options, translation_key="serial_port"
                        )
                    )
                }
            ),
            errors=errors,
        )

    async def async_step_vebus_manual(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """A device path, or a URL for a port on another machine."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device = await self._async_stable_path(str(user_input[CONF_DEVICE]))
            if result := await self._async_add_vebus(device, errors):
                return result
        return self.async_show_form(
            step_id="vebus_manual",
            data_schema=self.add_suggested_values_to_schema(VEBUS_DEVICE_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_usb(self, discovery_info: UsbServiceInfo) -> ConfigFlowResult:
        """An MK3 was plugged in: ask the unit behind it who it is."""
        device = await self._async_stable_path(discovery_info.device)
        # Never open a port a loaded entry is using.
        self._async_abort_entries_match({CONF_DEVICE: device})
        errors: dict[str, str] = {}
        unit = await self._async_probe_vebus(device, errors)
        if unit is None:
            return self.async_abort(reason=errors["base"])
        await self.async_set_unique_id(unit.serial_number or discovery_info.serial_number or device)
        # A known unit on a new port: follow it (the entry reloads).
        self._abort_if_unique_id_configured(updates={CONF_DEVICE: device})
        self._discovered_unit = (device, unit)
        self.context["title_placeholders"] = {"name": _vebus_title(unit)}
        return await self.async_step_usb_confirm()

    async def async_step_usb_confirm(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Discovery never adds a unit without the user's consent."""
        assert self._discovered_unit is not None
        device, unit = self._discovered_unit
        if user_input is not None:
            return self._async_create_vebus(device, unit)
        self._set_confirm_only()
        return self.async_show_form(
            step_id="usb_confirm",
            description_placeholders={"name": _vebus_title(unit), "device": device},
        )

    async def async_step_reconfigure_vebus(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Move a configured unit to another port or URL."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            device = await self._async_stable_path(str(user_input[CONF_DEVICE]))
            if unit := await self._async_probe_vebus(device, errors):
                await self.async_set_unique_id(await self._async_vebus_unique_id(unit, device))
                self._abort_if_unique_id_mismatch(reason="wrong_unit")
                return self.async_update_reload_and_abort(entry, data_updates={CONF_DEVICE: device})
        return self.async_show_form(
            step_id="reconfigure_vebus",
            data_schema=self.add_suggested_values_to_schema(
                VEBUS_DEVICE_SCHEMA, user_input or dict(entry.data)
            ),
            errors=errors,
        )

    async def _async_add_vebus(
        self, device: str, errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Probe the port; create the entry, or fill ``errors`` and return None."""
        # Never open a port a loaded entry is using (a ser2net server would even hand the
        # connection over to the probe).
        self._async_abort_entries_match({CONF_DEVICE: device})
        unit = await self._async_probe_vebus(device, errors)
        if unit is None:
            return None
        await self.async_set_unique_id(await self._async_vebus_unique_id(unit, device))
        self._abort_if_unique_id_configured(updates={CONF_DEVICE: device})
        return self._async_create_vebus(device, unit)

    async def _async_probe_vebus(self, device: str, errors: dict[str, str]) -> UnitInfo | None:
        """Open the port and start a session; always close it again (the entry reopens it)."""
        client = VebusClient(device)
        try:
            return await client.connect()
        except VebusConnectionError:
            errors["base"] = "cannot_connect"
        except VebusTimeoutError:
            errors["base"] = "unit_silent"
        except Exception:
            LOGGER.exception("Unexpected error while probing %s", device)
            errors["base"] = "unknown"
        finally:
            await client.close()
        return None

    async def _async_stable_path(self, device: str) -> str:
        """The /dev/serial/by-id link of a local port (ttyUSB numbers change); URLs as given."""
        device = device.strip()
        if not device.startswith("/dev/"):
            return device
        return await self.hass.async_add_executor_job(by_id_path, device) or device

    async def _async_vebus_unique_id(self, unit: UnitInfo, device: str) -> str:
        """The unit's serial number; else the interface's USB serial number; else the path."""
        if unit.serial_number:
            return unit.serial_number
        ports = await self.hass.async_add_executor_job(list_ports)
        for port in ports:
            if device in (port.path, port.device) and port.serial_number:
                return port.serial_number
        return device

    def _async_create_vebus(self, device: str, unit: UnitInfo) -> ConfigFlowResult:
        return self.async_create_entry(
            title=_vebus_title(unit),
            data={CONF_DEVICE: device, CONF_DEVICE_KIND: DeviceKind.VEBUS.value},
        )

    # --- Site -----------------------------------------------------------------------------

    async def async_step_site(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Group batteries and units into a site, optionally with the grid meter it reads."""
        members = self._site_member_options()
        if not members:
            return self.async_abort(reason="no_members_to_add")
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if (
            user_input is not None
            and (data := self._site_data(user_input, None, errors, placeholders)) is not None
        ):
            title = str(user_input[CONF_NAME]).strip() or DEFAULT_SITE_NAME
            # No unique id: a home may have several sites.
            return self.async_create_entry(title=title, data=data)
        return self.async_show_form(
            step_id="site",
            data_schema=self.add_suggested_values_to_schema(
                _site_schema(members, with_name=True), user_input
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure_site(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Change a site's members, grid sensor or the sign of the grid sensor."""
        entry = self._get_reconfigure_entry()
        members = self._site_member_options()
        if not members:
            return self.async_abort(reason="no_members_to_add")
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            if (data := self._site_data(user_input, entry, errors, placeholders)) is not None:
                # The whole data, not data_updates: a grid sensor left empty must go away.
                kept = {key: value for key, value in entry.data.items() if key != CONF_GRID_SENSOR}
                return self.async_update_reload_and_abort(entry, data={**kept, **data})
            suggested: Mapping[str, object] = user_input
        else:
            # Members whose entry was deleted since are not offered, so not preselected.
            offered = {option["value"] for option in members}
            chosen = [member for member in entry.data.get(CONF_MEMBERS, []) if member in offered]
            suggested = {**entry.data, CONF_MEMBERS: chosen}
        return self.async_show_form(
            step_id="reconfigure_site",
            data_schema=self.add_suggested_values_to_schema(
                _site_schema(members, with_name=False), suggested
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _site_member_options(self) -> list[selector.SelectOptionDict]:
        """Every battery and unit of this integration, by title."""
        entries = [
            entry
            for entry in self._async_current_entries(include_ignore=False)
            if entry_kind(entry) in SITE_MEMBER_KINDS
        ]
        entries.sort(key=lambda entry: entry.title.casefold())
        return [
            selector.SelectOptionDict(value=entry.entry_id, label=entry.title) for entry in entries
        ]

    def _site_data(
        self,
        user_input: Mapping[str, object],
        site: ConfigEntry | None,
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> dict[str, object] | None:
        """The site's data from the form; on a problem fill ``errors`` and return None.

        ``site`` is the entry being reconfigured: its own members are no conflict.
        """
        chosen = user_input[CONF_MEMBERS]
        assert isinstance(chosen, list)  # a multiple select
        members = list(dict.fromkeys(str(member) for member in chosen))
        grid_sensor = str(user_input.get(CONF_GRID_SENSOR) or "")
        if not members:
            errors[CONF_MEMBERS] = "no_members"
        elif taken := self._member_of_other_site(members, site):
            # The site drives its members: two sites must not drive one battery.
            member, other_site = taken
            errors[CONF_MEMBERS] = "member_in_other_site"
            placeholders.update(member=member.title, site=other_site.title)
        if grid_sensor and self.hass.states.get(grid_sensor) is None:
            errors[CONF_GRID_SENSOR] = "grid_sensor_missing"
            placeholders["entity_id"] = grid_sensor
        if errors:
            return None
        data: dict[str, object] = {
            CONF_DEVICE_KIND: DeviceKind.SITE.value,
            CONF_MEMBERS: members,
            CONF_GRID_SIGN: str(user_input[CONF_GRID_SIGN]),
        }
        if grid_sensor:
            data[CONF_GRID_SENSOR] = grid_sensor
        return data

    def _member_of_other_site(
        self, members: list[str], site: ConfigEntry | None
    ) -> tuple[ConfigEntry, ConfigEntry] | None:
        """The first chosen member that another site has, and that site."""
        for other in self._async_current_entries(include_ignore=False):
            if entry_kind(other) is not DeviceKind.SITE or (
                site is not None and other.entry_id == site.entry_id
            ):
                continue
            for member in members:
                if member in other.data.get(CONF_MEMBERS, []):
                    return self.hass.config_entries.async_get_known_entry(member), other
        return None


def _vebus_title(unit: UnitInfo) -> str:
    """The end of the serial number tells several units apart without publishing it.

    The title names the device and its entity ids and appears in Home Assistant's log.
    """
    suffix = f" {unit.serial_number[-4:]}" if unit.serial_number else ""
    return f"Victron VE.Bus{suffix}"


class _OneFormOptionsFlow(OptionsFlowWithReload):
    """Options from one form; the entry reloads when they are saved."""

    schema: vol.Schema
    step_id: str

    async def _async_form(self, user_input: dict[str, object] | None) -> ConfigFlowResult:
        if user_input is not None:
            # Keep options without a form field (tuning set elsewhere, the standby switch).
            return self.async_create_entry(data={**self.config_entry.options, **user_input})
        return self.async_show_form(
            step_id=self.step_id,
            data_schema=self.add_suggested_values_to_schema(self.schema, self.config_entry.options),
        )


class MarstekOptionsFlow(_OneFormOptionsFlow):
    """How often to poll and how gently to ask."""

    schema = OPTIONS_SCHEMA
    step_id = "init"

    async def async_step_init(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """The polling tiers and the request spacing."""
        return await self._async_form(user_input)


class VebusOptionsFlow(_OneFormOptionsFlow):
    """Polling tiers, the MK3 standby line, and whether setting writes are stored."""

    schema = VEBUS_OPTIONS_SCHEMA
    step_id = "vebus"

    async def async_step_init(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Show the VE.Bus form (its own step, so its texts differ from the Marstek one)."""
        return await self._async_form(None)

    async def async_step_vebus(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Save the options."""
        return await self._async_form(user_input)


class SiteOptionsFlow(_OneFormOptionsFlow):
    """How a site shares out its power, and when its grid sensor counts as stale."""

    schema = SITE_OPTIONS_SCHEMA
    step_id = "site"

    async def async_step_init(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Show the site's form (its own step, so its texts are its own)."""
        return await self._async_form(None)

    async def async_step_site(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Save the options."""
        return await self._async_form(user_input)


# Each kind's options flow.
OPTIONS_FLOWS: dict[DeviceKind, type[_OneFormOptionsFlow]] = {
    DeviceKind.MARSTEK: MarstekOptionsFlow,
    DeviceKind.VEBUS: VebusOptionsFlow,
    DeviceKind.SITE: SiteOptionsFlow,
}
