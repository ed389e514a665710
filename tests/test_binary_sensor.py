"""Binary sensors of both families: every entity per model (a battery's connections, a VE.Bus
unit's alarms and pre-alarms)."""

from __future__ import annotations

from homeassistant.const import Platform
import pytest

from .conftest import MARSTEK_MODELS, VEBUS_UNITS, SnapshotEntities

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

# --- Marstek --------------------------------------------------------------------------------


@MARSTEK_MODELS
@pytest.mark.parametrize("platforms", [[Platform.BINARY_SENSOR]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_marstek_entities(snapshot_marstek_entities: SnapshotEntities) -> None:
    """Every binary sensor of each model."""
    await snapshot_marstek_entities()


# --- VE.Bus ---------------------------------------------------------------------------------


@VEBUS_UNITS
@pytest.mark.parametrize("platforms", [[Platform.BINARY_SENSOR]])
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "clock")
async def test_vebus_entities(snapshot_vebus_entities: SnapshotEntities) -> None:
    """Every alarm of each unit; all belong to the unit's one device."""
    await snapshot_vebus_entities()
