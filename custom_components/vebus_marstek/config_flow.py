"""Config, discovery, reconfigure and options flows."""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_DEVICE, CONF_HOST, CONF_PORT
from homeassistant.core import callback
from homeassistant.helpers import selector
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.typing import DiscoveryInfoType
import voluptuous as vol

from .background_discovery import FoundBattery, async_probe, async_scan, scan_ports
from .const import (
    CONF_DEVICE_KIND,
    CONF_FAST_INTERVAL,
    CONF_MEDIUM_INTERVAL,
    CONF_REQUEST_SPACING,
    CONF_SLOW_INTERVAL,
    DEFAULT_FAST_INTERVAL,
    DEFAULT_MEDIUM_INTERVAL,
    DEFAULT_REQUEST_SPACING,
    DEFAULT_SLOW_INTERVAL,
    DOMAIN,
    LOGGER,
    MIN_REQUEST_SPACING,
    DeviceKind,
)
from .marstek import DEFAULT_PORT, MarstekError, MarstekPortInUseError

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
    }
)


def _port_of(user_input: Mapping[str, object]) -> int:
    port = user_input[CONF_PORT]
    assert isinstance(port, int)  # coerced by the schema
    return port


class VebusMarstekConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a battery by address, by broadcast scan, or from a discovery."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Nothing found yet."""
        self._scanned: dict[str, FoundBattery] = {}
        self._candidate: FoundBattery | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> MarstekOptionsFlow:
        """Polling and pacing options."""
        return MarstekOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """Choose the kind of device."""
        return self.async_show_menu(step_id="user", menu_options=[DeviceKind.MARSTEK.value])

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


class MarstekOptionsFlow(OptionsFlowWithReload):
    """How often to poll and how gently to ask; the entry reloads when saved."""

    async def async_step_init(
        self, user_input: dict[str, object] | None = None
    ) -> ConfigFlowResult:
        """The polling tiers and the request spacing."""
        if user_input is not None:
            # Keep options without a form field (tuning set elsewhere).
            return self.async_create_entry(data={**self.config_entry.options, **user_input})
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, self.config_entry.options
            ),
        )
