"""The integration's devices and entities as Home Assistant's registries list them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .client import HassClient
from .flows import DOMAIN
from .waiting import Check

# States that mean "no value": Home Assistant's own spelling.
NO_VALUE = frozenset({"unknown", "unavailable"})


@dataclass(frozen=True, slots=True)
class Device:
    """One device of the integration and its enabled entities, by description key."""

    device_id: str
    name: str
    entry_id: str
    entities: dict[str, str]  # description key (e.g. "soc") -> entity id

    def entity(self, key: str) -> str:
        try:
            return self.entities[key]
        except KeyError:
            raise KeyError(f"{self.name} has no {key!r}; it has {sorted(self.entities)}") from None


async def devices(client: HassClient) -> dict[str, Device]:
    """The integration's devices by config entry id."""
    device_list: list[dict[str, Any]] = await client.ws({"type": "config/device_registry/list"})
    entity_list: list[dict[str, Any]] = await client.ws({"type": "config/entity_registry/list"})
    found: dict[str, Device] = {}
    for device in device_list:
        identifier = _our_identifier(device)
        if identifier is None:
            continue
        # Unique ids are "<the device's identifier>_<description key>".
        prefix = f"{identifier}_"
        entities = {
            entity["unique_id"].removeprefix(prefix): entity["entity_id"]
            for entity in entity_list
            if entity["device_id"] == device["id"] and entity["disabled_by"] is None
        }
        # One entry per device from 2026.8 on; the older list is gone after 2027.10.
        entry_id = (
            device.get("config_entry_id")
            or device.get("primary_config_entry")
            or device["config_entries"][0]
        )
        found[entry_id] = Device(
            device_id=device["id"],
            name=device["name_by_user"] or device["name"],
            entry_id=entry_id,
            entities=entities,
        )
    return found


def _our_identifier(device: dict[str, Any]) -> str | None:
    for domain, identifier in device["identifiers"]:
        if domain == DOMAIN:
            return str(identifier)
    return None


def has_value(state: dict[str, Any]) -> bool:
    """A real value; or a write-only setting, which is unknown until it is first written."""
    return state["state"] not in NO_VALUE or bool(state["attributes"].get("assumed_state"))


def values_of(client: HassClient, entity_ids: set[str]) -> Check:
    """A check that every entity among ``entity_ids`` has a value (see `has_value`)."""

    async def check() -> str | None:
        states = await client.states()
        missing = sorted(
            entity_id
            for entity_id in entity_ids
            if entity_id not in states or not has_value(states[entity_id])
        )
        return f"no value yet: {missing}" if missing else None

    return check
