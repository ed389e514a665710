"""What the coordinators of both device kinds share: stored totals and translated writes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from enum import StrEnum

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .const import DOMAIN, LOGGER, SAVE_DELAY_S, STORAGE_VERSION
from .energy import EnergyIntegrator

type StoredState = Mapping[str, object]


class EnergyCounter(StrEnum):
    """Energy totals the integration publishes."""

    GRID_INPUT = "grid_input"
    GRID_OUTPUT = "grid_output"
    PV = "pv"
    LOAD = "load"
    BATTERY_CHARGED = "battery_charged"
    BATTERY_DISCHARGED = "battery_discharged"


def option_number(options: Mapping[str, object], key: str, default: float) -> float:
    """A numeric option, or its default when absent or unusable."""
    value = options.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def storage_key(entry_id: str) -> str:
    """Where an entry's energy totals (and written settings) are kept."""
    return f"{DOMAIN}.{entry_id}"


def entry_store(hass: HomeAssistant, entry_id: str) -> Store[StoredState]:
    """The store of one entry."""
    return Store(hass, STORAGE_VERSION, storage_key(entry_id))


def restored_integrator(stored: StoredState, key: str, *, max_gap_s: float) -> EnergyIntegrator:
    """An energy integrator continued from what was stored under ``key`` (or a new one)."""
    saved = stored.get(key)
    if isinstance(saved, Mapping):
        return EnergyIntegrator.from_dict(saved, max_gap_s=max_gap_s)
    return EnergyIntegrator(max_gap_s=max_gap_s)


def battery_energy(integrator: EnergyIntegrator) -> dict[EnergyCounter, float]:
    """Charged and discharged energy from an integrator fed battery power (+ = discharging)."""
    return {
        EnergyCounter.BATTERY_CHARGED: round(integrator.negative_wh, 3),
        EnergyCounter.BATTERY_DISCHARGED: round(integrator.positive_wh, 3),
    }


class DeviceCoordinator[DataT, ClientT](DataUpdateCoordinator[DataT]):
    """Polls one device through its client; keeps its totals in a store across restarts.

    Subclasses say which client errors a write can raise (``client_errors``) and how each
    becomes a translated Home Assistant error (``_write_error``).
    """

    client_errors: tuple[type[Exception], ...] = ()

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: ClientT,
        *,
        update_interval: timedelta,
    ) -> None:
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=update_interval,
        )
        self.client = client
        self._store = entry_store(hass, entry.entry_id)

    # --- persistence ----------------------------------------------------------------------

    async def _async_load_stored(self) -> StoredState:
        """What the last run stored; empty when there is nothing usable."""
        stored = await self._store.async_load()
        return stored if isinstance(stored, Mapping) else {}

    def _stored_state(self) -> StoredState:
        raise NotImplementedError

    async def async_save(self) -> None:
        """Write the stored state now (on unload)."""
        await self._store.async_save(self._stored_state())

    def _schedule_save(self) -> None:
        self._store.async_delay_save(self._stored_state, SAVE_DELAY_S)

    # --- repairs --------------------------------------------------------------------------

    def create_issue(
        self,
        issue_id: str,
        translation_key: str,
        severity: ir.IssueSeverity,
        **placeholders: str,
    ) -> None:
        """A repair issue about this device, named in it by the entry's title."""
        assert self.config_entry is not None
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=severity,
            translation_key=translation_key,
            translation_placeholders={"name": self.config_entry.title, **placeholders},
        )

    # --- writes ---------------------------------------------------------------------------

    async def async_write(self, write: Callable[[ClientT], Awaitable[object]]) -> None:
        """Run one write through the client, translating its errors, then refresh."""
        try:
            await write(self.client)
        except self.client_errors as err:
            raise self._write_error(err) from err
        await self._async_refresh_after_write()

    async def _async_refresh_after_write(self) -> None:
        await self.async_request_refresh()

    def _write_error(self, err: Exception) -> HomeAssistantError:
        raise NotImplementedError
