"""The entity bases of both device families: one device per config entry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeassistant.helpers.device_registry import (
    CONNECTION_BLUETOOTH,
    CONNECTION_NETWORK_MAC,
    DeviceEntryType,
    DeviceInfo,
    format_mac,
)
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, VEBUS_MODEL, VICTRON
from .coordinator import MarstekCoordinator, VebusCoordinator, VebusMarstekConfigEntry
from .marstek import Family, FirmwareProfile
from .site_coordinator import SiteCoordinator
from .vebus import Reads, UnitInfo


def marstek_device_info(coordinator: MarstekCoordinator) -> DeviceInfo:
    """The device-registry entry of the battery behind a coordinator."""
    identity = coordinator.identity
    profile = coordinator.profile
    ble_mac = format_mac(identity.ble_mac or "")
    connections = {(CONNECTION_BLUETOOTH, ble_mac)}
    # A Venus E 3.0 reports its access point's BSSID as wifi_mac: not its own address.
    if identity.wifi_mac and profile.family is not Family.VENUS_E3:
        connections.add((CONNECTION_NETWORK_MAC, format_mac(identity.wifi_mac)))
    return DeviceInfo(
        identifiers={(DOMAIN, ble_mac)},
        connections=connections,
        manufacturer="Marstek",
        model=profile.model,
        model_id=identity.device,
        name=coordinator.config_entry.title,
        sw_version=str(identity.firmware) if identity.firmware is not None else None,
    )


@dataclass(frozen=True, kw_only=True)
class MarstekEntityDescription(EntityDescription):
    """A Marstek entity: which firmware has it."""

    has_fn: Callable[[FirmwareProfile], bool] = lambda _profile: True


def marstek_entities[DescriptionT: MarstekEntityDescription, EntityT](
    coordinator: MarstekCoordinator,
    descriptions: Iterable[DescriptionT],
    entity: Callable[[MarstekCoordinator, DescriptionT], EntityT],
) -> list[EntityT]:
    """One entity per description this battery's firmware has."""
    profile = coordinator.profile
    return [
        entity(coordinator, description)
        for description in descriptions
        if description.has_fn(profile)
    ]


class MarstekEntity(CoordinatorEntity[MarstekCoordinator]):
    """An entity of one Marstek battery."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: MarstekCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.config_entry.unique_id}_{description.key}"
        self._attr_device_info = marstek_device_info(coordinator)


def vebus_device_info(coordinator: VebusCoordinator) -> DeviceInfo:
    """The device-registry entry of the VE.Bus unit behind a coordinator."""
    unit = coordinator.unit
    entry = coordinator.config_entry
    return DeviceInfo(
        identifiers={(DOMAIN, str(entry.unique_id))},
        manufacturer=VICTRON,
        # The MK2 protocol does not name the model; the firmware number does not either.
        model=VEBUS_MODEL,
        name=entry.title,
        sw_version=str(unit.firmware) if unit.firmware is not None else None,
        hw_version=str(unit.mk_version) if unit.mk_version is not None else None,
        serial_number=unit.serial_number,
    )


@dataclass(frozen=True, kw_only=True)
class VebusEntityDescription(EntityDescription):
    """A VE.Bus entity: what it needs read from the unit (its coordinator context)."""

    reads: Reads = frozenset()
    has_fn: Callable[[UnitInfo], bool] = lambda _unit: True


def vebus_entities[DescriptionT: VebusEntityDescription, EntityT](
    coordinator: VebusCoordinator,
    descriptions: Iterable[DescriptionT],
    entity: Callable[[VebusCoordinator, DescriptionT], EntityT],
) -> list[EntityT]:
    """One entity per description this unit has."""
    unit = coordinator.unit
    return [
        entity(coordinator, description) for description in descriptions if description.has_fn(unit)
    ]


class VebusEntity(CoordinatorEntity[VebusCoordinator]):
    """An entity of one VE.Bus unit; its description tells the coordinator what to read."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: VebusCoordinator, description: VebusEntityDescription) -> None:
        super().__init__(coordinator, context=description.reads)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.config_entry.unique_id}_{description.key}"
        self._attr_device_info = vebus_device_info(coordinator)

    @property
    def available(self) -> bool:
        """A sleeping unit reports nothing."""
        return super().available and not self.coordinator.data.asleep


def site_device_info(coordinator: SiteCoordinator) -> DeviceInfo:
    """The site's device: a group of member devices, not hardware of its own."""
    entry = coordinator.config_entry
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        entry_type=DeviceEntryType.SERVICE,
        manufacturer="VE.Bus & Marstek Venus (local)",
        model="Site",
        name=entry.title,
    )


@dataclass(frozen=True, kw_only=True)
class SiteEntityDescription(EntityDescription):
    """A site entity: whether this site has it (the grid power needs a grid sensor)."""

    has_fn: Callable[[SiteCoordinator], bool] = lambda _site: True


def site_entities[DescriptionT: SiteEntityDescription, EntityT](
    coordinator: SiteCoordinator,
    descriptions: Iterable[DescriptionT],
    entity: Callable[[SiteCoordinator, DescriptionT], EntityT],
) -> list[EntityT]:
    """One entity per description this site has."""
    return [
        entity(coordinator, description)
        for description in descriptions
        if description.has_fn(coordinator)
    ]


class SiteEntity(CoordinatorEntity[SiteCoordinator]):
    """An entity of a site."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: SiteCoordinator, description: SiteEntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.config_entry.entry_id}_{description.key}"
        self._attr_device_info = site_device_info(coordinator)


def entities_for(
    entry: VebusMarstekConfigEntry,
    *,
    marstek: Callable[[MarstekCoordinator], Iterable[Entity]],
    vebus: Callable[[VebusCoordinator], Iterable[Entity]],
    site: Callable[[SiteCoordinator], Iterable[Entity]] = lambda _site: (),
) -> Iterable[Entity]:
    """A platform's entities for what this entry runs: a Marstek battery, a unit or a site."""
    coordinator = entry.runtime_data
    if isinstance(coordinator, VebusCoordinator):
        return vebus(coordinator)
    if isinstance(coordinator, MarstekCoordinator):
        return marstek(coordinator)
    return site(coordinator)
