"""Fault soak of a VE.Bus unit behind an MK3: 200+ injected faults while polling back to back.

The port disappears, the unit sleeps and restarts, replies arrive corrupted, late or not at
all, and stray bytes and frames nobody asked for arrive on the line. Meanwhile a user moves
the remote switch, changes the input current limit and holds ESS setpoints. Afterwards the
unit is served fresh, every write is accounted for, nothing went to EEPROM, nothing dangerous
was sent, nothing leaked and nothing crashed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from dataclasses import dataclass
import logging
import random
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest

from custom_components.vebus_marstek.const import DOMAIN
from custom_components.vebus_marstek.coordinator import VebusCoordinator
from simulators.vebus import (
    FRAME_MK2,
    FRAME_RAW_BUS,
    ReceivedFrame,
    VebusSimulator,
    encode_frame,
)
from tests.conftest import VEBUS_SERIAL, make_vebus_entry, make_vebus_simulator
from tests.registry import our_device

from .helpers import (
    NeverDecreasing,
    Outcome,
    Poller,
    SoakBook,
    crash_records,
    issue_write,
    new_tasks,
    tasks_now,
)

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

SEED = 7
FAULTS_PER_KIND = 26

PREFIX = "victron_ve_bus_bcde"
SWITCH_MODE = f"select.{PREFIX}_switch_mode"
INPUT_LIMIT = f"number.{PREFIX}_ac_input_current_limit"
ESS = f"number.{PREFIX}_ess_setpoint"
TOTALS = [
    f"sensor.{PREFIX}_{name}"
    for name in (
        "battery_charged_energy",
        "battery_discharged_energy",
        "ac_input_imported_energy",
        "ac_input_exported_energy",
    )
]
SWITCH_CODES = {"charger_only": 1, "inverter_only": 2, "on": 3, "off": 4}
WRITE_VIA_ID = 0x37
RAM_ONLY = 0x02
SETTING_FLAG = 0x01
DO_NOT_SEND_STATE = 0x10
LIMIT_UNCHANGED = 0x8000
# The shortest polling interval the options flow allows (the poller goes faster still), the
# persistent-write option off, and timeouts short enough for 200 faults within a minute.
SOAK_OPTIONS: dict[str, object] = {
    "poll_interval": 2,
    "persist_settings": False,
    "request_timeout": 0.12,
    "read_attempts": 2,
}


@pytest.fixture(autouse=True)
def quick_clocks() -> Generator[None]:
    """Silence means asleep after 0.3 s instead of 5; the ESS keep-alive every 0.3 s."""
    with (
        patch("custom_components.vebus_marstek.vebus.client.SILENCE_MEANS_ASLEEP_S", 0.3),
        patch("custom_components.vebus_marstek.vebus.client.ESS_KEEPALIVE_S", 0.3),
    ):
        yield


@dataclass(frozen=True, kw_only=True)
class Acked:
    """A request the simulated MK3 answered with an intact reply."""

    index: int  # in frames_received
    frame: ReceivedFrame


def record_acks(sim: VebusSimulator) -> list[Acked]:
    """Requests that got an intact reply (not dropped, not corrupted, unit awake)."""
    acked: list[Acked] = []
    process = sim._process

    async def recording(request: object) -> None:
        replies, corrupt = sim.counters.replies_sent, sim.faults.corrupt_next
        await process(request)  # type: ignore[arg-type]
        if sim.counters.replies_sent > replies and sim.faults.corrupt_next == corrupt:
            index = len(sim.frames_received) - 1
            acked.append(Acked(index=index, frame=sim.frames_received[index]))

    sim._process = recording  # type: ignore[method-assign]
    return acked


def _is_switch(frame: ReceivedFrame) -> bool:
    """An 'S' that moves the switch or the limit (not the session's format-only 'S')."""
    return frame.command == "S" and not frame.args[4] & DO_NOT_SEND_STATE


def _switch(frame: ReceivedFrame) -> tuple[int, int]:
    return frame.args[0], frame.args[1] | frame.args[2] << 8


class Lab:
    """The unit, its faults and the bookkeeping of one soak."""

    def __init__(self, hass: HomeAssistant, sim: VebusSimulator) -> None:
        self.hass = hass
        self.sim = sim
        self.rng = random.Random(SEED)
        self.book = SoakBook(kind="vebus")
        self.acked = record_acks(sim)
        assert sim.url is not None
        self.entry = make_vebus_entry(sim.url, options=SOAK_OPTIONS)
        self.poller = Poller(lambda: self.coordinator)
        self.device_id = ""
        # The limit a restart brings back (the unit's setting), and when restarts happened.
        self.default_limit = sim.truth().input_current_limit
        self.resets_at: list[int] = []

    @property
    def coordinator(self) -> VebusCoordinator:
        coordinator: VebusCoordinator = self.entry.runtime_data
        return coordinator

    # --- faults -----------------------------------------------------------------------------

    async def cycles(self, low: int = 1, high: int = 1) -> None:
        """Let the poller run a few cycles under the fault, with a user write now and then."""
        await self.poller.cycles_pass(self.rng.randint(low, high))
        if self.rng.random() < 0.4:
            await self.write()

    async def disconnect(self) -> None:
        """The port disappears (USB re-plugged, ser2net restarted); the next poll reopens it."""
        self.sim.faults.disconnect()
        await self.cycles(1, 2)

    async def asleep(self) -> None:
        """The MK3 loses VE.Bus power: silence, then an interface back at its defaults."""
        self.sim.faults.asleep = True
        await self.cycles(1, 2)
        self.sim.faults.asleep = False

    async def reset(self) -> None:
        """The unit restarts: RAM-only values (limit, ESS setpoint) are gone."""
        self.sim.faults.reset()
        self.resets_at.append(len(self.book.writes))
        await self.cycles()

    async def garbage(self) -> None:
        self.sim.faults.garbage_next = self.rng.randbytes(self.rng.randint(1, 40))
        await self.cycles()

    async def corrupt(self) -> None:
        self.sim.faults.corrupt_next = self.rng.randint(1, 3)
        await self.cycles()
        self.sim.faults.corrupt_next = 0

    async def drop(self) -> None:
        self.sim.faults.drop_next = self.rng.randint(1, 3)
        await self.cycles()
        self.sim.faults.drop_next = 0

    async def stray_zeros(self) -> None:
        self.sim.faults.stray_zero_bytes = True
        await self.cycles()
        self.sim.faults.stray_zero_bytes = False

    async def unsolicited(self) -> None:
        """Frames nobody asked for: raw VE.Bus traffic and a version frame, mid-conversation."""
        self.sim.faults.unsolicited_vebus_frames = True
        for _ in range(self.rng.randint(1, 4)):
            raw = encode_frame(FRAME_RAW_BUS, self.rng.randbytes(5))
            self.sim._queue_frame(raw, None, reply=False)
        version = b"V" + (1170212).to_bytes(4, "little") + b"\x00"
        self.sim._queue_frame(encode_frame(FRAME_MK2, version), None, reply=False)
        await self.cycles()
        self.sim.faults.unsolicited_vebus_frames = False

    # --- writes -----------------------------------------------------------------------------

    def _acked_since(self, start: int) -> list[ReceivedFrame]:
        return [ack.frame for ack in self.acked if ack.index >= start]

    def _switch_sent(self, start: int) -> bool:
        return any(_is_switch(frame) for frame in self.sim.frames_received[start:])

    def _ess_sent(self, start: int, watts: int) -> bool:
        return any(
            frame.winmon == WRITE_VIA_ID
            and frame.args[2:4] == (watts & 0xFFFF).to_bytes(2, "little")
            for frame in self.sim.frames_received[start:]
        )

    async def write(self) -> None:
        """A user moves the switch, changes the limit or holds an ESS setpoint."""
        what = self.rng.choice(("switch", "limit", "ess", "ess_action", "switch_action"))
        start = len(self.sim.frames_received)
        if what in ("switch", "switch_action"):
            await self._write_switch(start, with_limit=what == "switch_action")
        elif what == "limit":
            await self._write_limit(start)
        else:
            await self._write_ess(start, action=what == "ess_action")

    def _random_limit(self) -> float:
        truth = self.sim.truth()
        low, high = truth.input_current_limit_min, truth.input_current_limit_max
        return round(self.rng.uniform(low, high), 1)

    async def _write_switch(self, start: int, *, with_limit: bool) -> None:
        option = self.rng.choice(sorted(SWITCH_CODES))
        limit = self._random_limit() if with_limit else None

        def confirm() -> None:
            moved = [f for f in self._acked_since(start) if _is_switch(f)]
            assert moved, f"switch {option} returned but the unit acknowledged nothing"
            assert len(moved[-1].args) == 7  # the form that never touches the MK3's EEPROM
            code, raw_limit = _switch(moved[-1])
            assert code == SWITCH_CODES[option]
            assert self.sim.truth().switch_mode == option
            if limit is None:
                assert raw_limit == LIMIT_UNCHANGED
            else:
                assert raw_limit == round(limit * 10)
                assert self.sim.truth().input_current_limit == pytest.approx(limit)

        if with_limit:
            data: dict[str, object] = {
                "device_id": self.device_id,
                "mode": option,
                "current_limit": limit,
            }
            call = lambda: self.hass.services.async_call(  # noqa: E731
                DOMAIN, "set_switch_mode", data, blocking=True
            )
        else:
            call = lambda: self.hass.services.async_call(  # noqa: E731
                "select",
                "select_option",
                {"entity_id": SWITCH_MODE, "option": option},
                blocking=True,
            )
        write = await issue_write(
            self.hass,
            self.book,
            target="switch",
            value=option,
            call=call,
            entity_id=None if with_limit else SWITCH_MODE,
            sent=lambda: self._switch_sent(start),
            confirm=confirm,
        )
        if limit is not None:
            self.book.record("limit", limit, write.outcome, write.error)

    async def _write_limit(self, start: int) -> None:
        amps = self._random_limit()

        def confirm() -> None:
            moved = [f for f in self._acked_since(start) if _is_switch(f)]
            assert moved, f"limit {amps} A returned but the unit acknowledged nothing"
            assert len(moved[-1].args) == 7
            assert _switch(moved[-1])[1] == round(amps * 10)
            assert self.sim.truth().input_current_limit == pytest.approx(amps)

        await issue_write(
            self.hass,
            self.book,
            target="limit",
            value=amps,
            call=lambda: self.hass.services.async_call(
                "number", "set_value", {"entity_id": INPUT_LIMIT, "value": amps}, blocking=True
            ),
            entity_id=INPUT_LIMIT,
            sent=lambda: self._switch_sent(start),
            confirm=confirm,
        )

    async def _write_ess(self, start: int, *, action: bool) -> None:
        watts = self.rng.randrange(-3000, 3001, 100)
        client = self.entry.runtime_data.client
        ess_id = client.unit.ess_setpoint_id

        def confirm() -> None:
            word = (watts & 0xFFFF).to_bytes(2, "little")
            written = [
                f
                for f in self._acked_since(start)
                if f.winmon == WRITE_VIA_ID and f.args[1] == ess_id
            ]
            assert any(f.args[2:4] == word for f in written), f"ESS {watts} W never acknowledged"
            for frame in written:
                assert frame.args[0] & RAM_ONLY
                assert not frame.args[0] & SETTING_FLAG
            assert client.ess_target == (watts or None)
            # The last setpoint the unit heard is this one (no older keep-alive after it).
            assert written[-1].args[2:4] == word
            assert self.sim.truth().ess_setpoint == watts

        if action:
            data: dict[str, object] = {"device_id": self.device_id, "power": watts}
            if watts and self.rng.random() < 0.5:
                data["duration"] = 3600
            call = lambda: self.hass.services.async_call(  # noqa: E731
                DOMAIN, "set_ess_setpoint", data, blocking=True
            )
        else:
            call = lambda: self.hass.services.async_call(  # noqa: E731
                "number", "set_value", {"entity_id": ESS, "value": watts}, blocking=True
            )
        await issue_write(
            self.hass,
            self.book,
            target="ess",
            value=watts,
            call=call,
            entity_id=None if action else ESS,
            sent=lambda: self._ess_sent(start, watts),
            confirm=confirm,
        )

    # --- the run ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.entry.add_to_hass(self.hass)
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()
        assert self.entry.state is ConfigEntryState.LOADED
        device = our_device(self.hass, VEBUS_SERIAL)
        self.device_id = device.id

    async def soak(self) -> None:
        kinds = [
            self.disconnect,
            self.asleep,
            self.reset,
            self.garbage,
            self.corrupt,
            self.drop,
            self.stray_zeros,
            self.unsolicited,
        ]
        plan = [kind for kind in kinds for _ in range(FAULTS_PER_KIND)]
        self.rng.shuffle(plan)
        for inject in plan:
            self.book.fault(inject.__name__)
            await inject()
            if self.rng.random() < 0.25:
                await self.write()  # right after the fault cleared

    def allowed(self, target: str, shown: object) -> bool:
        """The unit shows the last confirmed value, a later failed one, or its restart value."""
        values = self.book.allowed_final_values(target)
        if values is None:
            return True
        last, later_failed = values
        if shown == last.value or shown in later_failed:
            return True
        restarted_since = any(at > last.seq for at in self.resets_at)
        restart_value = {"limit": self.default_limit, "ess": 0}.get(target)
        return restarted_since and shown == restart_value


@pytest.mark.timeout(300)
async def test_vebus_fault_soak(hass: HomeAssistant, caplog: pytest.LogCaptureFixture) -> None:
    """200+ faults: the unit is served again, every write accounted for, no EEPROM writes."""
    caplog.set_level(logging.DEBUG, logger="custom_components.vebus_marstek")
    sim = make_vebus_simulator("multiplus-ii-48-3000")
    await sim.start_tcp()
    lab = Lab(hass, sim)
    before_setup = tasks_now()
    survived = False
    totals = None
    try:
        await lab.start()
        steady = tasks_now()
        totals = NeverDecreasing(hass, TOTALS)
        lab.poller.start()
        try:
            await lab.soak()
        finally:
            await lab.poller.stop()
        book = lab.book

        # The last fault has cleared: one more refresh serves fresh values.
        sim.set_ground_truth(ac_load_w=1400.0)
        await asyncio.sleep(1.0)  # the ESS keep-alive rewrites a setpoint lost in a restart
        coordinator = lab.coordinator
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        assert coordinator.last_update_success
        client = lab.entry.runtime_data.client
        assert client.connection.is_open
        truth = sim.truth()

        def state(entity_id: str) -> float:
            return float(hass.states.get(entity_id).state)

        assert state(f"sensor.{PREFIX}_battery_voltage") == pytest.approx(
            truth.battery_voltage, abs=0.01
        )
        assert state(f"sensor.{PREFIX}_ac_output_power") == pytest.approx(
            truth.ac_output_power, abs=1
        )
        assert state(f"sensor.{PREFIX}_battery_power") == pytest.approx(
            -truth.battery_power, rel=0.01, abs=5
        )
        assert hass.states.get(SWITCH_MODE).state == truth.switch_mode
        assert state(INPUT_LIMIT) == pytest.approx(truth.input_current_limit)
        assert state(ESS) == (client.ess_target or 0)
        if client.ess_target is not None:
            assert truth.ess_setpoint == client.ess_target

        # Every write: confirmed and still visible, unless a later write (or a restart of the
        # unit, for RAM-only values) replaced it; a failed one may or may not have happened.
        assert lab.allowed("switch", truth.switch_mode)
        assert lab.allowed("limit", round(truth.input_current_limit, 1))
        assert lab.allowed("ess", truth.ess_setpoint)

        # Nothing the user did not ask for reached EEPROM, nothing dangerous was sent.
        assert sim.eeprom_writes == []
        assert sim.setting_writes == []
        assert sim.dangerous == []
        assert totals.drops == []
        assert totals.samples > 0
        assert crash_records(caplog.records) == []
        assert new_tasks(steady, allowed={"vebus ess keep-alive"}) == []

        assert book.fault_count >= 200
        assert book.count(Outcome.CONFIRMED) >= 20

        assert await hass.config_entries.async_unload(lab.entry.entry_id)
        await hass.async_block_till_done()
        assert new_tasks(before_setup) == []
        assert not client.connection.is_open
        survived = True
    finally:
        if totals is not None:
            totals.close()
        await sim.stop()
        lab.book.publish(survived)
