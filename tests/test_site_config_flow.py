"""Site config flow: members, grid sensor and its sign, reconfigure; which kinds have options."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_USER
from homeassistant.const import CONF_DEVICE, CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.vebus_marstek import config_flow
from custom_components.vebus_marstek.const import (
    CONF_BATTERY_CAPACITY,
    CONF_DEVICE_KIND,
    CONF_FAST_INTERVAL,
    CONF_GRID_SENSOR,
    CONF_GRID_SIGN,
    CONF_GRID_STALE_AFTER,
    CONF_MEMBERS,
    CONF_PERSIST_SETTINGS,
    CONF_POLL_INTERVAL,
    CONF_SITE_MAX_POWER,
    CONF_SPLIT_STRATEGY,
    CONF_STANDBY,
    DOMAIN,
    DeviceKind,
)

pytestmark = pytest.mark.usefixtures("mock_setup_entry")

GRID = "sensor.p1_power"
MISSING_GRID = "sensor.no_such_meter"
VEBUS_OPTIONS = {
    CONF_FAST_INTERVAL: 1,
    CONF_POLL_INTERVAL: 5,
    CONF_STANDBY: False,
    CONF_PERSIST_SETTINGS: False,
}


def _marstek(hass: HomeAssistant, title: str, host: str) -> MockConfigEntry:
    """A configured battery; never set up, the flow only reads entries."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=f"mac-{host}",
        data={CONF_HOST: host, CONF_PORT: 30000, CONF_DEVICE_KIND: "marstek"},
    )
    entry.add_to_hass(hass)
    return entry


def _vebus(hass: HomeAssistant, title: str) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=f"serial-{title}",
        data={CONF_DEVICE: "socket://127.0.0.1:3333", CONF_DEVICE_KIND: "vebus"},
    )
    entry.add_to_hass(hass)
    return entry


def _site(hass: HomeAssistant, title: str, members: list[str], **extra: object) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        data={
            CONF_DEVICE_KIND: "site",
            CONF_MEMBERS: members,
            CONF_GRID_SIGN: "import_positive",
            **extra,
        },
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def members(hass: HomeAssistant) -> tuple[MockConfigEntry, MockConfigEntry, MockConfigEntry]:
    """Two batteries and a MultiPlus, added in an order their titles do not sort in."""
    return (
        _vebus(hass, "Victron VE.Bus BCDE"),
        _marstek(hass, "Venus E 3.0 1ec6", "127.0.0.2"),
        _marstek(hass, "venus A fdd7", "127.0.0.3"),
    )


@pytest.fixture
def grid_meter(hass: HomeAssistant) -> str:
    """A grid power sensor of another integration (a P1 meter in kW)."""
    hass.states.async_set(GRID, "0.42", {"device_class": "power", "unit_of_measurement": "kW"})
    return GRID


async def _start(hass: HomeAssistant) -> dict[str, object]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["marstek", "vebus", "site"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "site"}
    )


def _field(result: dict[str, object], name: str) -> vol.Marker:
    schema = result["data_schema"]
    assert isinstance(schema, vol.Schema)
    return next(key for key in schema.schema if key == name)


def _selector_config(result: dict[str, object], name: str) -> dict[str, object]:
    schema = result["data_schema"]
    assert isinstance(schema, vol.Schema)
    config: dict[str, object] = schema.schema[_field(result, name)].config
    return config


def _suggested(result: dict[str, object], name: str) -> object:
    description = _field(result, name).description
    return description["suggested_value"] if description else None


async def test_form_offers_batteries_and_units(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...]
) -> None:
    """Every battery and unit by title; not sites, not ignored entries; the defaults."""
    vebus, venus_e, venus_a = members
    _site(hass, "Garage", [venus_a.entry_id])
    MockConfigEntry(domain=DOMAIN, source=SOURCE_IGNORE, unique_id="ignored").add_to_hass(hass)
    result = await _start(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "site"
    assert _selector_config(result, CONF_MEMBERS)["options"] == [
        {"value": venus_a.entry_id, "label": "venus A fdd7"},
        {"value": venus_e.entry_id, "label": "Venus E 3.0 1ec6"},
        {"value": vebus.entry_id, "label": "Victron VE.Bus BCDE"},
    ]
    assert _selector_config(result, CONF_MEMBERS)["multiple"] is True
    assert _selector_config(result, CONF_MEMBERS)["mode"] == "list"
    assert _selector_config(result, CONF_GRID_SENSOR)["filter"] == [
        {"domain": ["sensor"], "device_class": ["power"]}
    ]
    sign = _selector_config(result, CONF_GRID_SIGN)
    assert sign["options"] == ["import_positive", "export_positive"]
    assert sign["translation_key"] == "grid_sign"
    assert _field(result, CONF_NAME).default() == "Home battery"
    assert _field(result, CONF_GRID_SIGN).default() == "import_positive"
    assert isinstance(_field(result, CONF_GRID_SENSOR), vol.Optional)


async def test_create_with_grid_sensor(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...], grid_meter: str
) -> None:
    """A battery and a unit with the grid meter; the entry is named as the user typed."""
    vebus, venus_e, _ = members
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_NAME: " Thuis ",
            CONF_MEMBERS: [venus_e.entry_id, vebus.entry_id],
            CONF_GRID_SENSOR: grid_meter,
            CONF_GRID_SIGN: "export_positive",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Thuis"
    assert result["data"] == {
        CONF_DEVICE_KIND: "site",
        CONF_MEMBERS: [venus_e.entry_id, vebus.entry_id],
        CONF_GRID_SENSOR: GRID,
        CONF_GRID_SIGN: "export_positive",
    }
    assert result["result"].unique_id is None


async def test_create_without_grid_sensor(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...]
) -> None:
    """Defaults only: the default name and sign, no grid sensor key; several sites may exist."""
    vebus, venus_e, venus_a = members
    _site(hass, "Garage", [venus_a.entry_id])
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MEMBERS: [vebus.entry_id, venus_e.entry_id]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Home battery"
    assert result["data"] == {
        CONF_DEVICE_KIND: "site",
        CONF_MEMBERS: [vebus.entry_id, venus_e.entry_id],
        CONF_GRID_SIGN: "import_positive",
    }
    assert len(hass.config_entries.async_entries(DOMAIN)) == 5


async def test_blank_name_gets_the_default(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...]
) -> None:
    """A name of spaces would give a nameless device: the default instead."""
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "  ", CONF_MEMBERS: [members[0].entry_id]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Home battery"


async def test_errors_then_recover(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...], grid_meter: str
) -> None:
    """No member, a member of another site, a sensor that does not exist; then success."""
    vebus, venus_e, venus_a = members
    _site(hass, "Garage", [venus_a.entry_id])
    result = await _start(hass)
    flow_id = result["flow_id"]

    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_MEMBERS: []})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MEMBERS: "no_members"}

    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_NAME: "Thuis",
            CONF_MEMBERS: [venus_e.entry_id, venus_a.entry_id],
            CONF_GRID_SENSOR: MISSING_GRID,
        },
    )
    assert result["errors"] == {
        CONF_MEMBERS: "member_in_other_site",
        CONF_GRID_SENSOR: "grid_sensor_missing",
    }
    assert result["description_placeholders"] == {
        "member": "venus A fdd7",
        "site": "Garage",
        "entity_id": MISSING_GRID,
    }
    # What the user entered stays in the form.
    assert _suggested(result, CONF_NAME) == "Thuis"
    assert _suggested(result, CONF_GRID_SENSOR) == MISSING_GRID

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_MEMBERS: [venus_e.entry_id], CONF_GRID_SENSOR: MISSING_GRID}
    )
    assert result["errors"] == {CONF_GRID_SENSOR: "grid_sensor_missing"}

    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_MEMBERS: [venus_e.entry_id, vebus.entry_id, venus_e.entry_id],
            CONF_GRID_SENSOR: GRID,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MEMBERS] == [venus_e.entry_id, vebus.entry_id]


async def test_only_offered_entries_can_be_members(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...]
) -> None:
    """A site, or an entry id that does not exist, is refused by the form itself."""
    garage = _site(hass, "Garage", [members[0].entry_id])
    result = await _start(hass)
    for bad in (garage.entry_id, "01JNOSUCHENTRY"):
        with pytest.raises(InvalidData):
            await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_MEMBERS: [bad]})


async def test_nothing_to_add(hass: HomeAssistant) -> None:
    """Without a battery or unit (ignored ones and sites do not count) there is no site."""
    MockConfigEntry(domain=DOMAIN, source=SOURCE_IGNORE, unique_id="ignored").add_to_hass(hass)
    _site(hass, "Empty", [])
    result = await _start(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_members_to_add"


async def test_reconfigure(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...], grid_meter: str
) -> None:
    """Prefilled from the entry; members change, the grid sensor is removed, the site reloads."""
    vebus, venus_e, venus_a = members
    site = _site(
        hass, "Thuis", [venus_e.entry_id, vebus.entry_id], **{CONF_GRID_SENSOR: grid_meter}
    )
    result = await site.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_site"
    # No name field: renaming the entry is Home Assistant's own.
    assert CONF_NAME not in result["data_schema"].schema
    assert _suggested(result, CONF_MEMBERS) == [venus_e.entry_id, vebus.entry_id]
    assert _suggested(result, CONF_GRID_SENSOR) == GRID
    assert _suggested(result, CONF_GRID_SIGN) == "import_positive"

    # The frontend leaves out an emptied optional field.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_MEMBERS: [venus_a.entry_id, venus_e.entry_id], CONF_GRID_SIGN: "export_positive"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(site.data) == {
        CONF_DEVICE_KIND: "site",
        CONF_MEMBERS: [venus_a.entry_id, venus_e.entry_id],
        CONF_GRID_SIGN: "export_positive",
    }
    assert site.title == "Thuis"


async def test_reconfigure_adds_grid_sensor(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...], grid_meter: str
) -> None:
    """Its own members are no conflict; a grid sensor can be added later."""
    vebus = members[0]
    site = _site(hass, "Thuis", [vebus.entry_id])
    result = await site.start_reconfigure_flow(hass)
    assert _suggested(result, CONF_GRID_SENSOR) is None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_MEMBERS: [vebus.entry_id],
            CONF_GRID_SENSOR: grid_meter,
            CONF_GRID_SIGN: "import_positive",
        },
    )
    assert result["reason"] == "reconfigure_successful"
    assert site.data[CONF_GRID_SENSOR] == GRID
    assert site.data[CONF_MEMBERS] == [vebus.entry_id]


async def test_reconfigure_errors(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...], grid_meter: str
) -> None:
    """The same checks as when adding; nothing is saved until they pass."""
    vebus, venus_e, venus_a = members
    _site(hass, "Garage", [venus_a.entry_id])
    site = _site(hass, "Thuis", [venus_e.entry_id], **{CONF_GRID_SENSOR: grid_meter})
    before = dict(site.data)
    result = await site.start_reconfigure_flow(hass)
    flow_id = result["flow_id"]

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_MEMBERS: [], CONF_GRID_SENSOR: grid_meter}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_site"
    assert result["errors"] == {CONF_MEMBERS: "no_members"}
    # What the user entered stays in the form, not what the entry has.
    assert _suggested(result, CONF_MEMBERS) == []

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_MEMBERS: [venus_e.entry_id, venus_a.entry_id]}
    )
    assert result["errors"] == {CONF_MEMBERS: "member_in_other_site"}
    assert result["description_placeholders"] == {"member": "venus A fdd7", "site": "Garage"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_MEMBERS: [venus_e.entry_id], CONF_GRID_SENSOR: MISSING_GRID}
    )
    assert result["errors"] == {CONF_GRID_SENSOR: "grid_sensor_missing"}
    assert dict(site.data) == before

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_MEMBERS: [venus_e.entry_id, vebus.entry_id], CONF_GRID_SENSOR: grid_meter}
    )
    assert result["reason"] == "reconfigure_successful"
    assert site.data[CONF_MEMBERS] == [venus_e.entry_id, vebus.entry_id]


async def test_reconfigure_forgets_deleted_members(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...]
) -> None:
    """A member whose entry was deleted is not preselected (the form would refuse it)."""
    vebus = members[0]
    site = _site(hass, "Thuis", ["01JDELETEDENTRY", vebus.entry_id])
    result = await site.start_reconfigure_flow(hass)
    assert _suggested(result, CONF_MEMBERS) == [vebus.entry_id]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MEMBERS: [vebus.entry_id], CONF_GRID_SIGN: "import_positive"}
    )
    assert site.data[CONF_MEMBERS] == [vebus.entry_id]


async def test_reconfigure_nothing_left(hass: HomeAssistant) -> None:
    """Every member was deleted and nothing else exists: say so instead of an empty list."""
    site = _site(hass, "Thuis", ["01JDELETEDENTRY"])
    result = await site.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_members_to_add"
    assert site.data[CONF_MEMBERS] == ["01JDELETEDENTRY"]


async def test_options_per_kind(hass: HomeAssistant, members: tuple[MockConfigEntry, ...]) -> None:
    """Each kind has its own options form: polling for devices, control for a site."""
    vebus, venus_e, _ = members
    site = _site(hass, "Thuis", [venus_e.entry_id])
    assert vebus.supports_options
    assert venus_e.supports_options
    assert site.supports_options
    result = await hass.config_entries.options.async_init(site.entry_id)
    assert result["step_id"] == "site"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SPLIT_STRATEGY: "rotation", CONF_GRID_STALE_AFTER: 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert site.options == {CONF_SPLIT_STRATEGY: "rotation", CONF_GRID_STALE_AFTER: 30}
    result = await hass.config_entries.options.async_init(site.entry_id)
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SPLIT_STRATEGY: "rotation", CONF_GRID_STALE_AFTER: 5}
        )
    result = await hass.config_entries.options.async_init(venus_e.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_init(vebus.entry_id)
    assert result["step_id"] == "vebus"
    # Every kind is decided on explicitly; a new kind must be added there.
    assert set(config_flow.OPTIONS_FLOWS) == set(DeviceKind)


async def test_vebus_battery_capacity(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...]
) -> None:
    """The capacity the MK3 cannot read: kWh in tenths, 0 (not known) by default."""
    vebus = members[0]
    result = await hass.config_entries.options.async_init(vebus.entry_id)
    field = _field(result, CONF_BATTERY_CAPACITY)
    assert field.default() == 0
    number = result["data_schema"].schema[field].validators[0].config
    assert (number["min"], number["max"], number["step"]) == (0, 1000, 0.1)
    assert (number["unit_of_measurement"], number["mode"]) == ("kWh", "box")
    result = await hass.config_entries.options.async_configure(result["flow_id"], VEBUS_OPTIONS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert vebus.options[CONF_BATTERY_CAPACITY] == 0

    result = await hass.config_entries.options.async_init(vebus.entry_id)
    assert _suggested(result, CONF_BATTERY_CAPACITY) == 0
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**VEBUS_OPTIONS, CONF_BATTERY_CAPACITY: 1001}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**VEBUS_OPTIONS, CONF_BATTERY_CAPACITY: 9.6}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert vebus.options[CONF_BATTERY_CAPACITY] == 9.6


async def test_vebus_most_a_site_may_ask(
    hass: HomeAssistant, members: tuple[MockConfigEntry, ...]
) -> None:
    """The rating the MK3 cannot read: 0 (the site never drives the unit) by default."""
    vebus = members[0]
    result = await hass.config_entries.options.async_init(vebus.entry_id)
    field = _field(result, CONF_SITE_MAX_POWER)
    assert field.default() == 0
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**VEBUS_OPTIONS, CONF_SITE_MAX_POWER: 3000}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert vebus.options[CONF_SITE_MAX_POWER] == 3000
    result = await hass.config_entries.options.async_init(vebus.entry_id)
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**VEBUS_OPTIONS, CONF_SITE_MAX_POWER: -1}
        )


@pytest.mark.parametrize("language", ["en", "nl"])
def test_strings(language: str) -> None:
    """Every text the site flow and the new option show exists in both languages."""
    path = Path(config_flow.__file__).parent / "translations" / f"{language}.json"
    strings = json.loads(path.read_text(encoding="utf-8"))
    config = strings["config"]
    assert config["step"]["user"]["menu_options"]["site"]
    for step, fields in (
        ("site", {CONF_NAME, CONF_MEMBERS, CONF_GRID_SENSOR, CONF_GRID_SIGN}),
        ("reconfigure_site", {CONF_MEMBERS, CONF_GRID_SENSOR, CONF_GRID_SIGN}),
    ):
        assert config["step"][step]["title"]
        assert set(config["step"][step]["data"]) == fields
        assert set(config["step"][step]["data_description"]) == fields
    for error in ("no_members", "member_in_other_site", "grid_sensor_missing"):
        assert config["error"][error]
    assert "{member}" in config["error"]["member_in_other_site"]
    assert "{site}" in config["error"]["member_in_other_site"]
    assert "{entity_id}" in config["error"]["grid_sensor_missing"]
    assert config["abort"]["no_members_to_add"]
    assert set(strings["selector"]["grid_sign"]["options"]) == {
        "import_positive",
        "export_positive",
    }
    vebus = strings["options"]["step"]["vebus"]
    assert vebus["data"][CONF_BATTERY_CAPACITY]
    assert vebus["data_description"][CONF_BATTERY_CAPACITY]
