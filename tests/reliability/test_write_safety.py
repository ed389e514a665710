"""Write safety: one test per row of the docs' tables of everything the integration writes.

For each value: where it goes (the Marstek method; RAM or EEPROM on a VE.Bus unit), its
range check (out of range: a translated validation error and nothing sent), its rate limit
where there is one, and how the write is confirmed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from datetime import timedelta
from unittest.mock import patch

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.device_registry import format_mac
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.vebus_marstek.const import CONF_DEVICE_KIND, DOMAIN
from custom_components.vebus_marstek.marstek import (
    MarstekMethodUnsupportedError,
    Pacing,
    PassiveRequest,
)
from custom_components.vebus_marstek.vebus.client import (
    ESS_KEEPALIVE_S,
    PERSISTENT_WRITE_INTERVAL_S,
)
from simulators.marstek import MarstekSimulator, Mode
from simulators.vebus import LINE_STANDBY, SettingWrite, VebusSimulator
from tests.actions import call
from tests.conftest import (
    FAST_OPTIONS,
    SECOND_HOST,
    SECOND_MAC,
    make_simulator,
    make_vebus_entry,
    vebus_refresh,
)
from tests.registry import our_device

from .helpers import drop_next_request

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

E3 = "venus_e_3_0_1ec6"
MODE = f"select.{E3}_operating_mode"
DOD = f"number.{E3}_depth_of_discharge"
VICTRON = "victron_ve_bus_bcde"
SWITCH_MODE = f"select.{VICTRON}_switch_mode"
INPUT_LIMIT = f"number.{VICTRON}_ac_input_current_limit"
ESS = f"number.{VICTRON}_ess_setpoint"
STANDBY = f"switch.{VICTRON}_keep_awake_standby"
WRITE_VIA_ID = 0x37
READ_SETTING = 0x31
RAM_ONLY = 0x02
SETTING_FLAG = 0x01
INPUT_LIMIT_SETTING = 6


async def _refused(
    hass: HomeAssistant, domain: str, service: str, data: dict[str, object]
) -> ServiceValidationError:
    """The call is refused with a translated validation error."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, domain, service, data)
    assert err.value.translation_key
    assert err.value.translation_domain
    return err.value


# --- Marstek ------------------------------------------------------------------------------


@dataclass
class Second:
    """A second battery of another model on the same API port."""

    sim: MarstekSimulator
    entry: MockConfigEntry
    prefix: str


@pytest.fixture
async def second_battery(
    hass: HomeAssistant, port: int, request: pytest.FixtureRequest
) -> AsyncIterator[Second]:
    """A battery of the model given by ``indirect`` parametrisation, at 127.0.0.3."""
    profile: str = request.param
    async with make_simulator(profile, SECOND_HOST, port, SECOND_MAC) as sim:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"Other {SECOND_MAC[-4:]}",
            unique_id=format_mac(SECOND_MAC),
            data={CONF_HOST: SECOND_HOST, CONF_PORT: port, CONF_DEVICE_KIND: "marstek"},
            options=dict(FAST_OPTIONS),
            entry_id="01JTESTMARSTEKSECOND000000",
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        yield Second(sim, entry, f"other_{SECOND_MAC[-4:]}")
        assert await hass.config_entries.async_unload(entry.entry_id)


def _sent(sim: MarstekSimulator, method: str) -> int:
    return len(sim.requests_for(method))


def _device_id(hass: HomeAssistant, mac: str) -> str:
    return our_device(hass, format_mac(mac)).id


@pytest.mark.parametrize("second_battery", ["venus-e2"], indirect=True)
async def test_marstek_operating_mode(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MarstekSimulator,
    second_battery: Second,
) -> None:
    """ES.SetMode; only the firmware's modes; set_result, else the mode is read back."""
    # Where it goes: one ES.SetMode with the mode, nothing else.
    start = len(simulator.requests)
    await call(hass, "select", "select_option", {"entity_id": MODE, "option": "ai"})
    writes = [r for r in simulator.requests[start:] if not r.method.split(".")[1].startswith("Get")]
    assert [r.method for r in writes] == ["ES.SetMode"]
    assert writes[0].params["config"]["mode"] == "AI"
    assert simulator.state.mode is Mode.AI
    # Checked: UPS only where the firmware has it; Passive needs its action; nothing sent.
    assert "ups" in hass.states.get(MODE).attributes["options"]
    other = second_battery
    other_mode = f"select.{other.prefix}_operating_mode"
    assert "ups" not in hass.states.get(other_mode).attributes["options"]
    await _refused(hass, "select", "select_option", {"entity_id": other_mode, "option": "ups"})
    assert _sent(other.sim, "ES.SetMode") == 0
    err = await _refused(hass, "select", "select_option", {"entity_id": MODE, "option": "passive"})
    assert err.translation_key == "passive_needs_action"
    sent = _sent(simulator, "ES.SetMode")

    # Confirmed by set_result; a battery that says no is asked again, then reported.
    simulator.faults.set_result_false_next = 1
    await call(hass, "select", "select_option", {"entity_id": MODE, "option": "ups"})
    assert _sent(simulator, "ES.SetMode") == sent + 2
    assert simulator.state.mode is Mode.UPS
    attempts = int(init_integration.options["write_attempts"])
    assert Pacing().write_attempts == 3  # the default docs/marstek.md names
    simulator.faults.set_result_false_next = attempts
    sent = _sent(simulator, "ES.SetMode")
    with pytest.raises(HomeAssistantError) as failed:
        await call(hass, "select", "select_option", {"entity_id": MODE, "option": "auto"})
    assert failed.value.translation_key == "write_rejected"
    assert _sent(simulator, "ES.SetMode") == sent + attempts
    assert simulator.state.mode is Mode.UPS

    # No reply, but the read-back shows the new mode: done, not sent again.
    simulator.faults.execute_but_drop_reply_next = 1
    sent = _sent(simulator, "ES.SetMode")
    await call(hass, "select", "select_option", {"entity_id": MODE, "option": "auto"})
    assert _sent(simulator, "ES.SetMode") == sent + 1
    assert simulator.state.mode is Mode.AUTO
    # Lost on the way: the read-back shows the old mode, so it is sent again.
    assert drop_next_request(simulator, "ES.SetMode") == []
    await call(hass, "select", "select_option", {"entity_id": MODE, "option": "ai"})
    assert _sent(simulator, "ES.SetMode") == sent + 3
    assert simulator.state.mode is Mode.AI
    # No reply and a silent read-back: reported as unconfirmed, never sent blindly again.
    simulator.faults.execute_but_drop_reply_next = 2
    sent = _sent(simulator, "ES.SetMode")
    with pytest.raises(HomeAssistantError) as failed:
        await call(hass, "select", "select_option", {"entity_id": MODE, "option": "auto"})
    assert failed.value.translation_key == "write_unconfirmed"
    assert _sent(simulator, "ES.SetMode") == sent + 1


@pytest.mark.parametrize("second_battery", ["venus-e-mini"], indirect=True)
async def test_marstek_passive(
    hass: HomeAssistant,
    marstek_device_id: str,
    simulator: MarstekSimulator,
    second_battery: Second,
) -> None:
    """ES.SetMode Passive; ± model limit, 1-86400 s, model accepts Passive; as above."""
    passive = {"device_id": marstek_device_id}
    await call(hass, DOMAIN, "set_passive_mode", {**passive, "power": -2500, "duration": 600})
    config = simulator.requests_for("ES.SetMode")[-1].params["config"]
    assert config == {"mode": "Passive", "passive_cfg": {"power": -2500, "cd_time": 600}}
    assert simulator.state.mode is Mode.PASSIVE
    sent = _sent(simulator, "ES.SetMode")
    for data, key in (
        ({"power": 2501}, "power_out_of_range"),
        ({"power": -2501}, "power_out_of_range"),
        ({"power": 100, "duration": 0}, "duration_out_of_range"),
        ({"power": 100, "duration": 86401}, "duration_out_of_range"),
    ):
        err = await _refused(hass, DOMAIN, "set_passive_mode", {**passive, **data})
        assert err.translation_key == key
    assert _sent(simulator, "ES.SetMode") == sent
    # A Venus E mini does not accept Passive mode at all.
    mini = _device_id(hass, SECOND_MAC)
    err = await _refused(hass, DOMAIN, "set_passive_mode", {"device_id": mini, "power": 100})
    assert err.translation_key == "passive_not_supported"
    assert _sent(second_battery.sim, "ES.SetMode") == 0

    # Confirmed as above: no reply, the read-back shows Passive (coming from another mode).
    await call(hass, "select", "select_option", {"entity_id": MODE, "option": "auto"})
    simulator.faults.execute_but_drop_reply_next = 1
    sent = _sent(simulator, "ES.SetMode")
    await call(hass, DOMAIN, "set_passive_mode", {**passive, "power": 700, "duration": 60})
    assert _sent(simulator, "ES.SetMode") == sent + 1
    assert (simulator.state.mode, simulator.state.passive_power_w) == (Mode.PASSIVE, 700)


async def test_marstek_passive_refresh(
    hass: HomeAssistant, marstek_device_id: str, simulator: MarstekSimulator
) -> None:
    """ES.SetMode Passive; a request from Home Assistant that has not ended, ± model limit."""
    refresh = {"device_id": marstek_device_id}
    err = await _refused(hass, DOMAIN, "refresh_passive_mode", refresh)
    assert err.translation_key == "no_passive_request"
    assert _sent(simulator, "ES.SetMode") == 0
    passive = {**refresh, "power": -2500, "duration": 600}
    await call(hass, DOMAIN, "set_passive_mode", passive)
    await call(hass, DOMAIN, "refresh_passive_mode", refresh)
    config = simulator.requests_for("ES.SetMode")[-1].params["config"]
    assert config["mode"] == "Passive"
    assert config["passive_cfg"]["power"] == -2500
    assert 598 <= config["passive_cfg"]["cd_time"] <= 600

    coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data
    sent = _sent(simulator, "ES.SetMode")
    for power, ends_in_s, key in (
        (2600, 600, "power_out_of_range"),  # remembered from a model with a higher limit
        (100, -1, "no_passive_request"),  # ended
    ):
        ends_at = dt_util.utcnow() + timedelta(seconds=ends_in_s)
        remembered = PassiveRequest(power_w=power, duration_s=600, ends_at=ends_at)
        coordinator.remember_settings(passive=remembered)
        err = await _refused(hass, DOMAIN, "refresh_passive_mode", refresh)
        assert err.translation_key == key
    assert _sent(simulator, "ES.SetMode") == sent

    # Confirmed as above: no reply, the read-back shows Passive (coming from another mode).
    await call(hass, DOMAIN, "set_passive_mode", {**refresh, "power": 700, "duration": 60})
    await call(hass, "select", "select_option", {"entity_id": MODE, "option": "auto"})
    simulator.faults.execute_but_drop_reply_next = 1
    sent = _sent(simulator, "ES.SetMode")
    await call(hass, DOMAIN, "refresh_passive_mode", refresh)
    assert _sent(simulator, "ES.SetMode") == sent + 1
    assert (simulator.state.mode, simulator.state.passive_power_w) == (Mode.PASSIVE, 700)


async def test_marstek_manual_slot(
    hass: HomeAssistant, marstek_device_id: str, simulator: MarstekSimulator
) -> None:
    """ES.SetMode Manual; slot range, ± model limit, end after start, a day; as above."""
    slot = {
        "device_id": marstek_device_id,
        "slot": 9,
        "start_time": "07:00",
        "end_time": "08:30",
        "days": ["mon", "tue"],
        "power": -600,
    }
    # Confirmed by set_result: a busy "no" is asked again.
    simulator.faults.set_result_false_next = 1
    await call(hass, DOMAIN, "set_manual_schedule", slot)
    assert _sent(simulator, "ES.SetMode") == 2
    cfg = simulator.requests_for("ES.SetMode")[-1].params["config"]
    assert cfg["mode"] == "Manual"
    assert cfg["manual_cfg"]["time_num"] == 9
    assert simulator.state.mode is Mode.MANUAL
    for data, key in (
        ({"slot": 10}, "slot_out_of_range"),
        ({"power": 2501}, "power_out_of_range"),
        ({"start_time": "09:00"}, "end_not_after_start"),
        ({"days": []}, "no_days"),
    ):
        err = await _refused(hass, DOMAIN, "set_manual_schedule", {**slot, **data})
        assert err.translation_key == key
    err = await _refused(
        hass, DOMAIN, "clear_manual_schedule", {"device_id": marstek_device_id, "slot": 10}
    )
    assert err.translation_key == "slot_out_of_range"
    assert _sent(simulator, "ES.SetMode") == 2


@pytest.mark.usefixtures("init_integration")
async def test_marstek_depth_of_discharge(hass: HomeAssistant, simulator: MarstekSimulator) -> None:
    """DOD.SET; 30-88 %; set_result, and without a reply it is reported, not repeated."""
    await call(hass, "number", "set_value", {"entity_id": DOD, "value": 30})
    await call(hass, "number", "set_value", {"entity_id": DOD, "value": 88})
    assert [r.params["value"] for r in simulator.requests_for("DOD.SET")] == [30, 88]
    assert simulator.state.dod == 88
    for value in (29, 89):
        await _refused(hass, "number", "set_value", {"entity_id": DOD, "value": value})
    assert _sent(simulator, "DOD.SET") == 2
    # No read method exists: an unanswered write is reported, never repeated, not shown.
    simulator.faults.execute_but_drop_reply_next = 1
    with pytest.raises(HomeAssistantError) as failed:
        await call(hass, "number", "set_value", {"entity_id": DOD, "value": 50})
    assert failed.value.translation_key == "write_unconfirmed"
    assert _sent(simulator, "DOD.SET") == 3
    assert hass.states.get(DOD).state == "88.0"


@pytest.mark.parametrize("second_battery", ["venus-e2"], indirect=True)
@pytest.mark.parametrize(
    ("key", "method", "param"),
    [("led", "Led.Ctrl", "state"), ("bluetooth_advertising", "Ble.Adv", "enable")],
)
async def test_marstek_led_and_ble_advertising(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MarstekSimulator,
    second_battery: Second,
    key: str,
    method: str,
    param: str,
) -> None:
    """Led.Ctrl, Ble.Adv; firmware with system settings only; confirmed as DOD."""
    entity_id = f"switch.{E3}_{key}"
    await call(hass, "switch", "turn_off", {"entity_id": entity_id})
    assert simulator.requests_for(method)[-1].params[param] == 0
    assert hass.states.get(entity_id).state == "off"
    # Firmware without system settings has no such switch, and the client refuses to send.
    assert hass.states.get(f"switch.{second_battery.prefix}_{key}") is None
    device = second_battery.entry.runtime_data.client
    with pytest.raises(MarstekMethodUnsupportedError):
        await (device.set_led(True) if key == "led" else device.set_ble_advertising(True))
    assert _sent(second_battery.sim, method) == 0
    # Without a reply: reported, not repeated, the switch keeps showing what is known.
    simulator.faults.execute_but_drop_reply_next = 1
    with pytest.raises(HomeAssistantError) as failed:
        await call(hass, "switch", "turn_on", {"entity_id": entity_id})
    assert failed.value.translation_key == "write_unconfirmed"
    assert _sent(simulator, method) == 2
    assert hass.states.get(entity_id).state == "off"


# --- VE.Bus -------------------------------------------------------------------------------


def _switch_frames(sim: VebusSimulator, since: int = 0) -> list[bytes]:
    """The 'S' frames that move the switch or the limit (not the session's format 'S')."""
    return [
        frame.args
        for frame in sim.frames_received[since:]
        if frame.command == "S" and not frame.args[4] & 0x10
    ]


def _nothing_stored(sim: VebusSimulator) -> None:
    assert sim.eeprom_writes == []
    assert all(not write.eeprom for write in sim.setting_writes)
    assert sim.interface.eeprom_flags is None
    assert sim.dangerous == []


async def test_vebus_switch_mode(
    hass: HomeAssistant,
    init_vebus: MockConfigEntry,
    vebus_device_id: str,
    vebus_simulator: VebusSimulator,
) -> None:
    """'S' (7-byte form) to the MK3's panel state; one of four modes; 'S' reply, then 'F' 5."""
    sim = vebus_simulator
    await call(hass, "select", "select_option", {"entity_id": SWITCH_MODE, "option": "off"})
    (args,) = _switch_frames(sim)
    assert len(args) == 7  # the 8-byte form would write the interface's EEPROM flags
    assert (args[0], args[1] | args[2] << 8) == (4, 0x8000)  # off, limit unchanged
    assert sim.truth().switch_mode == "off"
    # Confirmed: the refresh right after the write read 'F' 5, which shows the new position.
    commands = [(f.command, f.args[:1]) for f in sim.frames_received]
    moved_at = max(i for i, (command, _) in enumerate(commands) if command == "S")
    assert ("F", b"\x05") in commands[moved_at:]
    assert hass.states.get(SWITCH_MODE).state == "off"
    sent = len(sim.frames_received)
    await _refused(hass, "select", "select_option", {"entity_id": SWITCH_MODE, "option": "eco"})
    err = await _refused(
        hass, DOMAIN, "set_switch_mode", {"device_id": vebus_device_id, "mode": "standby"}
    )
    assert err.translation_key == "invalid_switch_mode"
    assert len(sim.frames_received) == sent
    # Only on your action: polling never moves the switch.
    await vebus_refresh(init_vebus, 3)
    assert len(_switch_frames(sim)) == 1
    # No 'S' reply: asked again (the same frame is harmless twice), then confirmed.
    sim.faults.drop_next = 1
    await call(hass, "select", "select_option", {"entity_id": SWITCH_MODE, "option": "on"})
    assert [args[0] for args in _switch_frames(sim, sent)] == [3, 3]
    assert sim.truth().switch_mode == "on"
    # A unit that never answers: reported.
    sim.faults.asleep = True
    with pytest.raises(HomeAssistantError) as failed:
        await call(hass, DOMAIN, "set_switch_mode", {"device_id": vebus_device_id, "mode": "off"})
    assert failed.value.translation_key == "unit_not_answering"
    sim.faults.asleep = False
    _nothing_stored(sim)


async def test_vebus_input_current_limit(
    hass: HomeAssistant,
    init_vebus: MockConfigEntry,
    vebus_device_id: str,
    vebus_simulator: VebusSimulator,
) -> None:
    """'S' to RAM (setting 6 never written); the unit's own limits; 'S' reply, then 'F' 5."""
    sim = vebus_simulator
    truth = sim.truth()
    low, high = truth.input_current_limit_min, truth.input_current_limit_max
    state = hass.states.get(INPUT_LIMIT)
    assert (state.attributes["min"], state.attributes["max"]) == (low, high)
    await call(hass, "number", "set_value", {"entity_id": INPUT_LIMIT, "value": low + 1.5})
    (args,) = _switch_frames(sim)
    assert len(args) == 7
    assert args[1] | args[2] << 8 == round((low + 1.5) * 10)
    assert args[0] == 3  # the switch stays where it was (on)
    assert sim.truth().input_current_limit == pytest.approx(low + 1.5)
    assert float(hass.states.get(INPUT_LIMIT).state) == pytest.approx(low + 1.5)
    sent = len(sim.frames_received)
    await _refused(hass, "number", "set_value", {"entity_id": INPUT_LIMIT, "value": high + 1})
    await _refused(hass, "number", "set_value", {"entity_id": INPUT_LIMIT, "value": low - 0.5})
    err = await _refused(
        hass,
        DOMAIN,
        "set_switch_mode",
        {"device_id": vebus_device_id, "mode": "on", "current_limit": high + 1},
    )
    assert err.translation_key == "current_limit_out_of_range"
    assert len(sim.frames_received) == sent
    # With the switch, through the action: one 'S' carries both.
    await call(
        hass,
        DOMAIN,
        "set_switch_mode",
        {"device_id": vebus_device_id, "mode": "charger_only", "current_limit": low + 2},
    )
    args = _switch_frames(sim, sent)[-1]
    assert (args[0], args[1] | args[2] << 8) == (1, round((low + 2) * 10))
    assert all(write.setting_id != INPUT_LIMIT_SETTING for write in sim.setting_writes)
    _nothing_stored(sim)


@pytest.fixture
def quick_keepalive() -> Generator[None]:
    """The ESS keep-alive every 0.2 s instead of every 5 s."""
    with patch("custom_components.vebus_marstek.vebus.client.ESS_KEEPALIVE_S", 0.2):
        yield


@pytest.mark.usefixtures("quick_keepalive")
async def test_vebus_ess_setpoint(
    hass: HomeAssistant,
    init_vebus: MockConfigEntry,
    vebus_device_id: str,
    vebus_simulator: VebusSimulator,
) -> None:
    """WriteViaID with the RAM-only flag; ±32767 W; every 5 s while held; 0x87 replies."""
    assert ESS_KEEPALIVE_S == 5.0  # what docs/vebus.md promises (patched shorter here)
    sim = vebus_simulator
    ess_id = sim.ess_setpoint_id
    await call(hass, "number", "set_value", {"entity_id": ESS, "value": -1200})
    await asyncio.sleep(0.5)  # two keep-alives
    writes = [w for w in sim.ram_var_writes if w.var_id == ess_id]
    assert len(writes) >= 3
    assert all(w.ram_only and w.raw == (-1200 & 0xFFFF) for w in writes)
    assert sim.truth().ess_setpoint == -1200
    held = len(sim.ram_var_writes)
    for power in (32768, -32768, 40000):
        err = await _refused(
            hass, DOMAIN, "set_ess_setpoint", {"device_id": vebus_device_id, "power": power}
        )
        assert err.translation_key == "setpoint_out_of_range"
    await _refused(hass, "number", "set_value", {"entity_id": ESS, "value": 32768})
    assert all(w.raw == (-1200 & 0xFFFF) for w in sim.ram_var_writes[held:])
    await call(hass, DOMAIN, "set_ess_setpoint", {"device_id": vebus_device_id, "power": 32767})
    assert sim.truth().ess_setpoint == 32767
    # 0 without a duration hands control back: one write of 0, then no more keep-alives.
    await call(hass, DOMAIN, "set_ess_setpoint", {"device_id": vebus_device_id, "power": 0})
    count = len(sim.ram_var_writes)
    await asyncio.sleep(0.5)
    assert len(sim.ram_var_writes) == count
    assert sim.truth().ess_setpoint == 0
    # Each write must be answered 0x87: a unit that refuses it is reported.
    with (
        patch.object(sim, "_write_ram_var", return_value=bytes([0x80])),
        pytest.raises(HomeAssistantError) as failed,
    ):
        await call(hass, "number", "set_value", {"entity_id": ESS, "value": 100})
    assert failed.value.translation_key == "vebus_write_refused"
    _nothing_stored(sim)


CHARGER_SETTINGS = [("charge_current", 4), ("absorption_voltage", 2), ("float_voltage", 3)]


@pytest.mark.parametrize(("key", "setting"), CHARGER_SETTINGS)
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_vebus_charger_settings_ram(
    hass: HomeAssistant,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
    key: str,
    setting: int,
) -> None:
    """WriteViaID, RAM-only flag; the setting's own limits; on your action; 0x88 reply."""
    sim = vebus_simulator
    entity_id = f"number.{VICTRON}_{key}"
    state = hass.states.get(entity_id)
    low, high = state.attributes["min"], state.attributes["max"]
    value = round((low + high) / 2, 2)
    await call(hass, "number", "set_value", {"entity_id": entity_id, "value": value})
    (written,) = sim.setting_writes
    assert (written.setting_id, written.eeprom, written.via) == (setting, False, "write_via_id")
    assert float(hass.states.get(entity_id).state) == pytest.approx(value, abs=0.01)
    sent = len(sim.frames_received)
    await _refused(hass, "number", "set_value", {"entity_id": entity_id, "value": high + 1})
    await _refused(hass, "number", "set_value", {"entity_id": entity_id, "value": low - 1})
    assert len(sim.frames_received) == sent
    await vebus_refresh(init_vebus, 2)
    assert len(sim.setting_writes) == 1  # only on your action
    with (
        patch.object(sim, "_write_setting", return_value=bytes([0x80])),
        pytest.raises(HomeAssistantError) as failed,
    ):
        await call(hass, "number", "set_value", {"entity_id": entity_id, "value": low})
    assert failed.value.translation_key == "vebus_write_refused"
    _nothing_stored(sim)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_vebus_charger_settings_eeprom(
    hass: HomeAssistant, vebus_simulator: VebusSimulator
) -> None:
    """With Store setting writes: EEPROM, only a changed value, once a minute, read back."""
    assert PERSISTENT_WRITE_INTERVAL_S == 60
    sim = vebus_simulator
    assert sim.url is not None
    entry = make_vebus_entry(sim.url, options={"persist_settings": True})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    client = entry.runtime_data.client
    current = f"number.{VICTRON}_charge_current"
    float_v = f"number.{VICTRON}_float_voltage"
    try:
        start = len(sim.frames_received)
        await call(hass, "number", "set_value", {"entity_id": current, "value": 30})
        assert sim.eeprom_writes == [SettingWrite(4, 30)]
        # Read first (only a changed value is stored), written, then read back.
        codes = [f.winmon for f in sim.frames_received[start:] if f.winmon is not None]
        write_at = codes.index(WRITE_VIA_ID)
        assert READ_SETTING in codes[:write_at]
        assert READ_SETTING in codes[write_at + 1 :]
        # The same value again: nothing stored.
        await call(hass, "number", "set_value", {"entity_id": current, "value": 30})
        assert len(sim.eeprom_writes) == 1
        # Another value within the minute: refused, nothing stored; another setting may.
        err = await _refused(hass, "number", "set_value", {"entity_id": current, "value": 25})
        assert err.translation_key == "vebus_invalid_value"
        assert len(sim.eeprom_writes) == 1
        low = hass.states.get(float_v).attributes["min"]
        await call(hass, "number", "set_value", {"entity_id": float_v, "value": low})
        assert len(sim.eeprom_writes) == 2
        # A minute later the first setting may be stored again.
        client._last_persistent_write[4] -= PERSISTENT_WRITE_INTERVAL_S
        await call(hass, "number", "set_value", {"entity_id": current, "value": 25})
        assert sim.eeprom_writes[-1] == SettingWrite(4, 25)
        # A value that does not read back as written is reported.
        client._last_persistent_write[4] -= PERSISTENT_WRITE_INTERVAL_S
        with (
            patch.object(sim._plant.settings, "write"),
            pytest.raises(HomeAssistantError) as failed,
        ):
            await call(hass, "number", "set_value", {"entity_id": current, "value": 20})
        assert failed.value.translation_key == "vebus_write_refused"
        assert sim.dangerous == []
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_vebus_standby_line(
    hass: HomeAssistant, init_vebus: MockConfigEntry, vebus_simulator: VebusSimulator
) -> None:
    """'H' to the MK3 (RAM, applied again after it lost power); on your action; 'H' reply."""
    sim = vebus_simulator
    await call(hass, "switch", "turn_on", {"entity_id": STANDBY})
    lines = [f.args for f in sim.frames_received if f.command == "H"]
    assert lines[-1] == bytes([sim.interface.line_state])
    assert sim.interface.line_state & LINE_STANDBY
    # The MK3 loses VE.Bus power and forgets; the new session holds the line again.
    with patch("custom_components.vebus_marstek.vebus.client.SILENCE_MEANS_ASLEEP_S", 0.2):
        sim.faults.asleep = True
        await vebus_refresh(init_vebus, 2)
        sim.faults.asleep = False
        assert not sim.interface.line_state & LINE_STANDBY
        await vebus_refresh(init_vebus)
    assert sim.interface.line_state & LINE_STANDBY
    await call(hass, "switch", "turn_off", {"entity_id": STANDBY})
    assert not sim.interface.line_state & LINE_STANDBY
    _nothing_stored(sim)
