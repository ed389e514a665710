"""The site controller in a closed loop: a simulated house, real clients, real time.

Two simulated Venus E 3.0 batteries (JSON over UDP, replies after 70 to 160 ms) and a simulated
MultiPlus-II 48/3000 with ESS (MK3 at real 2400-baud pacing) sit in one simulated house. Its grid
power is the house's load minus its PV minus what the three batteries put out at that moment, as
the simulators' ground truth has it (+ = importing; a Venus's battery power, the MultiPlus's
AC-input power, which is its battery power less the conversion losses); a meter samples it every
second (or every 5 s). The members are polled as the integration polls them: each Venus every
30 s (ES.GetStatus, ES.GetMode and EM.GetStatus, 2 s apart as the client paces them), the
MultiPlus every second (its fast tier, the slow tier every 5 s). A run starts as every member's
poll has just found it idle.

Two controllers take turns on the same house and scenario:

* **the site**, self-consumption: the integration's own :class:`~.site.SiteLoop` (controller,
  split and write pacing), stepped as ``site_control.py`` steps it (on each meter reading, on
  each member refresh and every 5 s), writing through the real clients as ``site_drivers.py``
  does (a Passive command with a countdown, an ESS setpoint);
* **the automation** users run today (taurgis/has-marstek-local-api #32): every 25 s, Passive to
  one Venus with its measured power plus the grid power, clamped to its 2500 W, with a fresh
  countdown; nothing else.

For each step: the settling time (until the grid power stays within the band for 10 s), the
overshoot beyond the band on the other side, the energy imported and exported from the step to
the next one, the grid power the response ends up at (the mean of the window's last 5 s), and
the writes per hour per battery over the run. Everything is measured on the clock while it runs.
Run with ``scripts/bench``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
import contextlib
from dataclasses import dataclass, field
import time
from typing import Protocol

from custom_components.vebus_marstek.const import (
    DEFAULT_FAST_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_VEBUS_FAST_INTERVAL,
    SITE_CONTROL_TICK,
    VEBUS_MIN_PAUSE_S,
)
from custom_components.vebus_marstek.coordinator import pacing_from_options
from custom_components.vebus_marstek.marstek import (
    EnergySystemStatus,
    MarstekClient,
    MarstekError,
    ModeStatus,
    OperatingMode,
)
from custom_components.vebus_marstek.site import (
    MARSTEK_PASSIVE,
    VEBUS_ESS,
    ControllerSettings,
    ControlMode,
    GridController,
    Member,
    MemberState,
    PlannedWrite,
    SiteLoop,
    WritePolicy,
    WriteResult,
)
from custom_components.vebus_marstek.vebus import (
    TierPacing,
    UnitInfo,
    VebusClient,
    VebusError,
    VebusStatus,
    fast_reads,
    output_power,
    read_values,
    soc,
    status_reads,
)
from e2e.ports import free_udp_port
from simulators.marstek import MarstekSimulator
from simulators.vebus import VebusSimulator

VENUS_PROFILE = "venus-e3"
VENUS_HOSTS = ("127.0.0.2", "127.0.0.3")
VENUS_LATENCY_S = (0.07, 0.16)
MULTIPLUS_MODEL = "multiplus-ii-48-3000"
# What the owner enters for the MultiPlus in the integration's options: the MK3 cannot read its
# rating or the battery bank's size (48 V x 200 Ah, the simulator's bank).
MULTIPLUS_MAX_POWER_W = 2400.0
MULTIPLUS_CAPACITY_WH = 48.0 * 200.0
# The band the grid power must stay in to count as settled: the controller's deadband plus 50 W.
BAND_W = ControllerSettings().deadband_w + 50.0
HOLD_S = 10.0  # how long it must stay there
RESIDUAL_S = 5.0  # where a step's response ends up: the mean grid power over its last 5 s
SAMPLE_S = 0.25  # the ground truth is recorded this often (the meter reads far less often)
# The automation of taurgis/has-marstek-local-api #32.
AUTOMATION_PERIOD_S = 25.0
AUTOMATION_COUNTDOWN_S = 60
AUTOMATION_LIMIT_W = 2500
_DEVICE_ERRORS = (MarstekError, VebusError)


@dataclass(frozen=True)
class Step:
    """One change in the house, and the window its response is measured in."""

    name: str
    at_s: float
    until_s: float


@dataclass(frozen=True)
class Scenario:
    """The house over one controller's run, in seconds from the controller's start.

    The batteries start idle with a base load to cover; a load comes on (a kettle, a heat pump),
    and later the sun comes out with more PV than the house uses.
    """

    base_load_w: float = 500.0
    load_step_w: float = 2000.0
    load_step_at_s: float = 8.0
    pv_w: float = 3500.0
    pv_step_at_s: float = 58.0
    end_s: float = 108.0
    soc_percent: float = 60.0

    def net_load_w(self, t: float) -> float:
        """House load minus PV at ``t`` (W, + = the house takes power)."""
        load = self.base_load_w + (self.load_step_w if t >= self.load_step_at_s else 0.0)
        return load - (self.pv_w if t >= self.pv_step_at_s else 0.0)

    @property
    def steps(self) -> tuple[Step, ...]:
        """The two steps, each measured until the next one (or the end)."""
        return (
            Step(f"load +{self.load_step_w:.0f} W", self.load_step_at_s, self.pv_step_at_s),
            Step(f"PV +{self.pv_w:.0f} W", self.pv_step_at_s, self.end_s),
        )


# --- the members --------------------------------------------------------------------------


class Link(Protocol):
    """One member as the controllers see it: its last poll, its writes, its ground truth."""

    member_id: str
    name: str
    policy: WritePolicy
    read_at: float | None  # when the last poll that read the device finished (monotonic)
    wake: asyncio.Event  # set: poll now, as a coordinator's requested refresh does

    def member(self) -> Member:
        """The member as the split sees it, from the last poll."""

    def measured_w(self) -> float | None:
        """Battery power from the last poll, + = discharging."""

    def in_mode(self) -> bool:
        """Whether the last poll shows the member in the mode the site's writes set."""

    async def poll(self) -> None:
        """One refresh, as the member's coordinator makes it."""

    def read_back(self) -> None:
        """The site asks for one read after a write, as ``site_drivers.py`` does."""

    async def write(self, power_w: int, hold_s: float | None) -> None:
        """Ask for ``power_w`` of battery power, as the site's driver does."""

    async def restore(self) -> None:
        """Back to the member's own control."""

    def fed_in_w(self) -> float:
        """What the member puts into the house now (ground truth, + = discharging)."""


class Venus:
    """A Venus E 3.0 on the LAN: polled every Fast interval, driven by Passive commands."""

    policy = MARSTEK_PASSIVE

    def __init__(
        self, member_id: str, name: str, sim: MarstekSimulator, port: int, poll_every_s: float
    ) -> None:
        self.member_id = member_id
        self.name = name
        self.sim = sim
        self.poll_every_s = poll_every_s  # the entry's Fast interval option
        self.client = MarstekClient(sim.host, port, pacing=pacing_from_options({}))
        self.es: EnergySystemStatus | None = None
        self.mode: ModeStatus | None = None
        self.capacity_wh: float | None = None
        self.read_at: float | None = None
        self.wake = asyncio.Event()
        # The coordinator staggers batteries on one LAN by their MAC (a share of the spacing).
        spacing_s = self.client.pacing.spacing_s
        self.stagger_s = int(sim.state.ble_mac[-4:], 16) % 1000 / 1000 * spacing_s

    async def connect(self) -> None:
        await self.client.connect()
        await self.client.read_identity()
        self.capacity_wh = (await self.client.read_battery_status()).rated_capacity_wh

    async def poll(self) -> None:
        # The coordinator skips a cycle while a write holds the device, keeping its data; the
        # site does not take such a cycle, nor a failed one, for a read.
        if self.client.writing and self.es is not None:
            return
        await asyncio.sleep(self.stagger_s)
        with contextlib.suppress(MarstekError):
            self.es = await self.client.read_es_status()
            self.mode = await self.client.read_mode()
            await self.client.read_meter_status()
            self.read_at = time.monotonic()

    def read_back(self) -> None:
        # MarstekDriver.read_back: the coordinator's requested refresh, one fast cycle now.
        self.wake.set()

    def member(self) -> Member:
        es = self.es
        limit = float(self.client.profile.max_power_w if self.client.profile else 0)
        return Member(
            member_id=self.member_id,
            available=es is not None,
            soc_percent=es.soc if es else None,
            capacity_wh=self.capacity_wh,
            battery_power_w=es.battery_power_w if es else None,
            max_charge_w=limit,
            max_discharge_w=limit,
        )

    def measured_w(self) -> float | None:
        return self.es.battery_power_w if self.es else None

    def in_mode(self) -> bool:
        return self.mode is not None and self.mode.mode is OperatingMode.PASSIVE

    async def write(self, power_w: int, hold_s: float | None) -> None:
        await self.client.set_passive(power_w, round(hold_s or MARSTEK_PASSIVE.hold_s or 0))

    async def restore(self) -> None:
        await self.client.set_mode(OperatingMode.AUTO)

    def fed_in_w(self) -> float:
        return -self.sim.truth().battery_power_w  # the simulator's + is charging


class MultiPlus:
    """A MultiPlus-II with ESS on an MK3: its fast tier every second, driven by its setpoint."""

    policy = VEBUS_ESS
    poll_every_s = float(DEFAULT_VEBUS_FAST_INTERVAL)

    def __init__(self, member_id: str, name: str, sim: VebusSimulator) -> None:
        self.member_id = member_id
        self.name = name
        self.sim = sim
        self.client: VebusClient | None = None
        self.unit: UnitInfo | None = None
        self.status: VebusStatus | None = None
        self.read_at: float | None = None
        self.wake = asyncio.Event()  # never set: read every second, no read-back is asked
        self.pacing = TierPacing(period_s=self.poll_every_s, asked_slow_s=DEFAULT_POLL_INTERVAL)
        self.setpoint_writes = 0

    async def connect(self) -> None:
        self.client = VebusClient(await self.sim.start_tcp())
        self.unit = await self.client.connect()

    def _connected(self) -> tuple[VebusClient, UnitInfo]:
        assert self.client is not None
        assert self.unit is not None
        return self.client, self.unit

    async def poll(self) -> None:
        client, unit = self._connected()
        started = time.monotonic()
        slow = self.pacing.is_due(started)
        reads = status_reads(unit)
        with contextlib.suppress(VebusError):
            self.status = await read_values(
                client, unit, reads if slow else fast_reads(reads), self.status
            )
            self.pacing.record(started, time.monotonic() - started, slow=slow)
            self.read_at = time.monotonic()

    def member(self) -> Member:
        status = self.status
        return Member(
            member_id=self.member_id,
            available=status is not None,
            soc_percent=soc(status) if status else None,
            capacity_wh=MULTIPLUS_CAPACITY_WH,
            battery_power_w=status.battery_power if status else None,
            max_charge_w=MULTIPLUS_MAX_POWER_W,
            max_discharge_w=MULTIPLUS_MAX_POWER_W,
        )

    def measured_w(self) -> float | None:
        return self.status.battery_power if self.status else None

    def in_mode(self) -> bool:
        return self._connected()[0].ess_target is not None

    async def write(self, power_w: int, hold_s: float | None) -> None:
        # The setpoint is what the unit feeds in at AC-in: its AC-out loads come off the battery.
        loads = output_power(self.status) if self.status else None
        self.setpoint_writes += 1
        await self._connected()[0].hold_ess_setpoint(round(power_w - (loads or 0.0)))

    def read_back(self) -> None:
        """Never asked: its policy wants no read-back."""

    async def restore(self) -> None:
        await self._connected()[0].release_ess_setpoint()

    def fed_in_w(self) -> float:
        return -self.sim.truth().ac_input_power  # + = drawn from the house


# --- the controllers ----------------------------------------------------------------------


@dataclass(frozen=True)
class WriteEntry:
    """One write a controller sent."""

    at_s: float
    member_id: str
    power_w: int
    reason: str
    ok: bool


@dataclass
class Diagnostics:
    """What a run did besides the grid power: writes, restarts from the measured power."""

    writes: list[WriteEntry] = field(default_factory=list)
    steps: int = 0
    exclusions: list[tuple[float, str]] = field(default_factory=list)
    read_backs: list[tuple[float, str]] = field(default_factory=list)  # when, which member
    timeline: list[str] = field(default_factory=list)


class Controller(Protocol):
    """What the run loop calls."""

    diagnostics: Diagnostics

    def meter_reading(self, grid_w: float, at: float) -> None:
        """A new meter reading."""

    def member_refreshed(self, member_id: str) -> None:
        """A member's poll finished."""

    def tick(self) -> None:
        """The periodic check."""

    async def finish(self) -> None:
        """Let writes on their way land, then hand the members back."""


class Site:
    """The site in self-consumption: the integration's own :class:`~.site.SiteLoop`, fed and
    carried out here as ``site_control.py`` does (a step on each meter reading, on each member
    refresh and every 5 s; one write at a time per member, started at once)."""

    def __init__(self, links: Sequence[Link], t0: float) -> None:
        self.links = {link.member_id: link for link in links}
        self.t0 = t0
        controller = GridController(ControllerSettings(mode=ControlMode.SELF_CONSUMPTION))
        self.loop = SiteLoop(controller=controller)
        self.diagnostics = Diagnostics()
        self._locks = {member_id: asyncio.Lock() for member_id in self.links}
        self._grid_w: float | None = None
        self._grid_at: float | None = None
        self._since_s: float | None = None
        self._excluded: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def meter_reading(self, grid_w: float, at: float) -> None:
        self._since_s = None if self._grid_at is None else at - self._grid_at
        self._grid_w, self._grid_at = grid_w, at
        self._step(new_grid=True)

    def member_refreshed(self, member_id: str) -> None:
        self._step(new_grid=False)

    def tick(self) -> None:
        self._step(new_grid=False)

    def _state(self, link: Link) -> MemberState:
        return MemberState(
            member=link.member(),
            policy=link.policy,
            limit_w=link.member().max_discharge_w,
            in_mode=link.in_mode(),
            measured_w=link.measured_w(),
            read_at=link.read_at,
            busy=self._locks[link.member_id].locked(),
        )

    def _step(self, *, new_grid: bool) -> None:
        now = time.monotonic()
        loop = self.loop
        members = loop.observe([self._state(link) for link in self.links.values()], now)
        self._note_exclusions(members, now)
        if new_grid:
            request = loop.grid_request(members, self._grid_w, self._since_s)
            self._note_step(request)
        else:
            request = loop.last_request_w
        if request is not None:
            for member_id, write in loop.plan(members, request, now):
                # Started eagerly, as Home Assistant starts it: the lock is taken before the
                # next step can plan the same write again.
                task = asyncio.Task(self._write(member_id, write), eager_start=True)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        for member_id in loop.read_backs_due(now):
            self.diagnostics.read_backs.append((now - self.t0, member_id))
            self.links[member_id].read_back()

    def _note_exclusions(self, members: Sequence[Member], now: float) -> None:
        for member in members:
            left_out = member.member_id in self.loop.writes and not member.can_follow
            if left_out and member.member_id not in self._excluded:
                self.diagnostics.exclusions.append((now - self.t0, member.member_id))
                self._excluded.add(member.member_id)
            elif not left_out:
                self._excluded.discard(member.member_id)

    def _note_step(self, request: float | None) -> None:
        if request is None:
            return
        diagnostics = self.diagnostics
        diagnostics.steps += 1
        diagnostics.timeline.append(
            f"{time.monotonic() - self.t0:6.1f} s grid {self._grid_w or 0:7.0f} W "
            f"-> request {request:7.0f} W"
        )

    async def _write(self, member_id: str, planned: PlannedWrite) -> None:
        link = self.links[member_id]
        async with self._locks[member_id]:
            try:
                await link.write(planned.power_w, planned.hold_s)
            except _DEVICE_ERRORS:
                result = WriteResult.FAILED
            else:
                result = WriteResult.OK
            self.loop.sent(member_id, planned, time.monotonic(), result)
            self.diagnostics.writes.append(
                WriteEntry(
                    at_s=time.monotonic() - self.t0,
                    member_id=member_id,
                    power_w=planned.power_w,
                    reason=str(planned.reason),
                    ok=result is WriteResult.OK,
                )
            )

    async def finish(self) -> None:
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for member_id in self.loop.release():
            with contextlib.suppress(*_DEVICE_ERRORS):
                await self.links[member_id].restore()


class Automation:
    """Every 25 s: Passive to one Venus with its measured power + the grid power."""

    def __init__(self, venus: Venus, t0: float) -> None:
        self.venus = venus
        self.t0 = t0
        self.diagnostics = Diagnostics()
        self._grid_w: float | None = None
        self._next_at = t0
        self._task: asyncio.Task[None] | None = None

    def meter_reading(self, grid_w: float, at: float) -> None:
        self._grid_w = grid_w
        self.tick()

    def member_refreshed(self, member_id: str) -> None:
        """The automation only reads the sensors when it fires."""

    def tick(self) -> None:
        now = time.monotonic()
        if now < self._next_at or self._grid_w is None:
            return
        if self._task is not None and not self._task.done():
            return  # mode: single
        self._next_at += AUTOMATION_PERIOD_S
        measured = self.venus.measured_w() or 0.0
        power = round(min(max(measured + self._grid_w, -AUTOMATION_LIMIT_W), AUTOMATION_LIMIT_W))
        self.diagnostics.timeline.append(
            f"{now - self.t0:6.1f} s grid {self._grid_w:7.0f} W, "
            f"measured {measured:7.0f} W -> Passive {power:7d} W"
        )
        self._task = asyncio.Task(self._write(power), eager_start=True)

    async def _write(self, power: int) -> None:
        try:
            await self.venus.client.set_passive(power, AUTOMATION_COUNTDOWN_S)
        except MarstekError:
            ok = False
        else:
            ok = True
        self.diagnostics.writes.append(
            WriteEntry(time.monotonic() - self.t0, self.venus.member_id, power, "automation", ok)
        )

    async def finish(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        with contextlib.suppress(MarstekError):
            await self.venus.restore()


# --- one run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepResult:
    """The response to one step."""

    step: Step
    settling_s: float | None  # None: not settled before the next step
    overshoot_w: float
    imported_wh: float
    exported_wh: float
    residual_w: float  # the mean grid power over the window's last seconds


@dataclass(frozen=True)
class RunResult:
    """One controller's run over the scenario."""

    label: str
    meter_s: float
    steps: tuple[StepResult, ...]
    writes_per_hour: dict[str, float]
    requests_per_hour: dict[str, float]  # every request each Venus received, reads included
    diagnostics: Diagnostics
    late_s: float  # the event loop's worst lateness on the recorder's schedule


class House:
    """The simulated house: the members, and the grid power their ground truth makes."""

    def __init__(self, links: Sequence[Venus | MultiPlus], scenario: Scenario) -> None:
        self.links = links
        self.scenario = scenario
        self.t0 = 0.0  # the controller's start (monotonic)

    def grid_w(self, now: float) -> float:
        return self.scenario.net_load_w(now - self.t0) - sum(link.fed_in_w() for link in self.links)


async def _every(period_s: float, stop: asyncio.Event, action: Callable[[], None]) -> float:
    """Call ``action`` on a fixed schedule until ``stop``; returns the worst lateness (s)."""
    start = time.monotonic()
    late = 0.0
    count = 0
    while not stop.is_set():
        late = max(late, time.monotonic() - (start + count * period_s))
        action()
        count += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                stop.wait(), max(0.0, start + count * period_s - time.monotonic())
            )
    return late


async def _poll_loop(
    link: Venus | MultiPlus, controller: Controller, stop: asyncio.Event, wait_s: float
) -> None:
    """As the member's coordinator, after waiting ``wait_s``: the Venus waits its interval
    after each refresh, the MultiPlus's period runs from one refresh's start to the next (with
    at least 0.2 s between them). A requested refresh (``link.wake``, the site's read-back)
    comes at once and, as in Home Assistant, the next poll a whole interval after it."""
    await _sleep(wait_s, stop, link.wake)
    while not stop.is_set():
        link.wake.clear()
        started = time.monotonic()
        await link.poll()
        controller.member_refreshed(link.member_id)
        wait_s = link.poll_every_s
        if isinstance(link, MultiPlus):
            wait_s = max(link.poll_every_s - (time.monotonic() - started), VEBUS_MIN_PAUSE_S)
        await _sleep(wait_s, stop, link.wake)


async def _sleep(seconds: float, *events: asyncio.Event) -> None:
    """Wait ``seconds``, or less if one of ``events`` is set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def _run(
    house: House,
    label: str,
    make: Callable[[float], Controller],
    meter_s: float,
) -> RunResult:
    scenario = house.scenario
    # The controller starts as every member's poll, which finds it idle, has just finished:
    # the next one comes a poll interval later.
    await asyncio.gather(*(link.poll() for link in house.links))
    house.t0 = t0 = time.monotonic()
    controller = make(t0)
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()

    def record() -> None:
        now = time.monotonic()
        samples.append((now - t0, house.grid_w(now)))

    def read_meter() -> None:
        now = time.monotonic()
        controller.meter_reading(house.grid_w(now), now)

    def tick() -> None:
        controller.tick()

    setpoint_writes_before = {
        link.member_id: link.setpoint_writes for link in house.links if isinstance(link, MultiPlus)
    }
    set_mode_before = {
        link.member_id: len(link.sim.requests_for("ES.SetMode"))
        for link in house.links
        if isinstance(link, Venus)
    }
    requests_before = {
        link.member_id: len(link.sim.requests) for link in house.links if isinstance(link, Venus)
    }
    recorder = asyncio.create_task(_every(SAMPLE_S, stop, record))
    loops = [
        asyncio.create_task(_every(meter_s, stop, read_meter)),
        asyncio.create_task(_every(SITE_CONTROL_TICK.total_seconds(), stop, tick)),
        *(
            asyncio.create_task(_poll_loop(link, controller, stop, link.poll_every_s))
            for link in house.links
        ),
    ]
    await asyncio.sleep(max(0.0, t0 + scenario.end_s - time.monotonic()))
    stop.set()
    late_s = await recorder
    await asyncio.gather(*loops)
    # Writes as the devices saw them: ES.SetMode requests (retries included), ESS setpoints.
    writes: dict[str, int] = {}
    requests: dict[str, int] = {}
    for link in house.links:
        if isinstance(link, Venus):
            writes[link.name] = (
                len(link.sim.requests_for("ES.SetMode")) - set_mode_before[link.member_id]
            )
            requests[link.name] = len(link.sim.requests) - requests_before[link.member_id]
        else:
            writes[link.name] = link.setpoint_writes - setpoint_writes_before[link.member_id]
    await controller.finish()
    duration_s = samples[-1][0]
    return RunResult(
        label=label,
        meter_s=meter_s,
        steps=tuple(_step_result(samples, step) for step in scenario.steps),
        writes_per_hour={name: count * 3600 / duration_s for name, count in writes.items()},
        requests_per_hour={name: count * 3600 / duration_s for name, count in requests.items()},
        diagnostics=controller.diagnostics,
        late_s=late_s,
    )


def _step_result(samples: list[tuple[float, float]], step: Step) -> StepResult:
    window = [(t, w) for t, w in samples if step.at_s <= t < step.until_s]
    settled_at = None
    for index, (start, _) in enumerate(window):
        if start + HOLD_S > step.until_s:
            break
        held = [w for t, w in window[index:] if t <= start + HOLD_S]
        if all(abs(w) <= BAND_W for w in held):
            settled_at = start
            break
    # The step pushes the grid one way (a load to import, PV to export): overshoot is the other.
    first_error = window[min(len(window) - 1, 4)][1]
    direction = 1.0 if first_error > 0 else -1.0
    overshoot = max(0.0, max(-direction * w for _, w in window) - BAND_W)
    imported = exported = 0.0
    for (t, w), (t_next, _) in zip(window, [*window[1:], (step.until_s, 0.0)], strict=True):
        dt_h = (t_next - t) / 3600
        imported += max(w, 0.0) * dt_h
        exported += max(-w, 0.0) * dt_h
    tail = [w for t, w in window if t >= step.until_s - RESIDUAL_S]
    return StepResult(
        step=step,
        settling_s=None if settled_at is None else settled_at - step.at_s,
        overshoot_w=overshoot,
        imported_wh=imported,
        exported_wh=exported,
        residual_w=sum(tail) / len(tail),
    )


# --- the benchmark ---------------------------------------------------------------------------


async def _start_house(venus_poll_s: float) -> tuple[House, Callable[[], Awaitable[None]]]:
    scenario = Scenario()
    port = free_udp_port()
    venus_sims = [
        MarstekSimulator(
            profile=VENUS_PROFILE, host=host, port=port, ble_mac=f"02aa00000{index:03x}"
        )
        for index, host in enumerate(VENUS_HOSTS, start=1)
    ]
    multiplus_sim = VebusSimulator(model=MULTIPLUS_MODEL, pace=True)
    for sim in venus_sims:
        sim.faults.latency = VENUS_LATENCY_S
        # Their own CT does not see this house: in Auto they sit at 0 W.
        sim.set_ground_truth(soc=scenario.soc_percent, house_load_w=0.0, ct_connected=False)
        await sim.start()
    multiplus_sim.set_ground_truth(ac_load_w=0.0, soc=scenario.soc_percent / 100)
    venus = [
        Venus(f"venus-{index}", f"Venus {index}", sim, port, venus_poll_s)
        for index, sim in enumerate(venus_sims, start=1)
    ]
    multiplus = MultiPlus("multiplus", "MultiPlus", multiplus_sim)
    await asyncio.gather(*(link.connect() for link in venus), multiplus.connect())

    async def close() -> None:
        for link in venus:
            await link.client.close()
        if multiplus.client is not None:
            await multiplus.client.close()
        for sim in venus_sims:
            await sim.stop()
        await multiplus_sim.stop()

    return House([*venus, multiplus], scenario), close


def _site(house: House) -> Callable[[float], Controller]:
    return lambda t0: Site(house.links, t0)


def _automation(house: House) -> Callable[[float], Controller]:
    venus = house.links[0]
    assert isinstance(venus, Venus)
    return lambda t0: Automation(venus, t0)


def _seconds(value: float | None) -> str:
    return "not settled" if value is None else f"{value:.1f}"


async def _main(venus_poll_s: float, verbose: bool) -> None:
    house, close = await _start_house(venus_poll_s)
    runs: list[RunResult] = []
    try:
        for label, make, meter_s in (
            ("site, self-consumption", _site(house), 1.0),
            ("site, self-consumption", _site(house), 5.0),
            ("automation (#32), one Venus", _automation(house), 1.0),
        ):
            runs.append(await _run(house, label, make, meter_s))
            await asyncio.sleep(1.0)  # let the restore land before the next run's first poll
    finally:
        await close()

    names = list(runs[0].writes_per_hour)
    print(
        "| Controller | Meter | Step | Settling (s) | Overshoot (W) | Imported (Wh) "
        f"| Exported (Wh) | Grid at the end (W) | Writes per hour: {', '.join(names)} |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        writes = ", ".join(f"{run.writes_per_hour[name]:.0f}" for name in names)
        for result in run.steps:
            print(
                f"| {run.label} | {run.meter_s:.0f} s | {result.step.name} "
                f"| {_seconds(result.settling_s)} | {result.overshoot_w:.0f} "
                f"| {result.imported_wh:.1f} | {result.exported_wh:.1f} "
                f"| {result.residual_w:.0f} | {writes} |"
            )
    site = runs[0].diagnostics
    steps = house.scenario.steps
    print(
        f"\nSettled: within +-{BAND_W:.0f} W for {HOLD_S:.0f} s, looked for in the "
        f"{steps[0].until_s - steps[0].at_s:.0f} s after each step; each Venus polled every "
        f"{house.links[0].poll_every_s:.0f} s; "
        + "; ".join(f"{run.label}, {run.meter_s:.0f} s meter: {_brief(run)}" for run in runs)
        + f"; the site (1 s meter) made {site.steps} controller steps; requests per hour to "
        "each Venus, reads and writes: "
        + "; ".join(
            f"{run.label}, {run.meter_s:.0f} s meter: "
            + ", ".join(f"{rate:.0f}" for rate in run.requests_per_hour.values())
            for run in runs
        )
        + f"; the event loop was late by at most {max(run.late_s for run in runs) * 1000:.0f} ms."
    )
    if verbose:
        for run in runs:
            _print_diagnostics(run)


def _brief(run: RunResult) -> str:
    return ", ".join(
        f"{result.step.name} {_seconds(result.settling_s)}"
        + ("" if result.settling_s is None else " s")
        for result in run.steps
    )


def _print_diagnostics(run: RunResult) -> None:
    diagnostics = run.diagnostics
    reasons = Counter((entry.member_id, entry.reason, entry.ok) for entry in diagnostics.writes)
    print(f"\n## {run.label}, {run.meter_s:.0f} s meter")
    print(f"{diagnostics.steps} controller steps; exclusions: {diagnostics.exclusions or 'none'}")
    print("writes:", dict(sorted(reasons.items())))
    print("read-backs asked:", [f"{at:.1f} s {member}" for at, member in diagnostics.read_backs])
    for entry in diagnostics.writes:
        status = "" if entry.ok else " FAILED"
        print(
            f"  {entry.at_s:6.1f} s {entry.member_id} {entry.power_w:6d} W {entry.reason}{status}"
        )
    for line in diagnostics.timeline:
        print(" ", line)


class _Arguments(argparse.Namespace):
    venus_poll: float
    verbose: bool


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--venus-poll",
        type=float,
        default=float(DEFAULT_FAST_INTERVAL),
        help="seconds between two polls of a Venus (its Fast interval option)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="print every write and controller step"
    )
    args = parser.parse_args(namespace=_Arguments())
    asyncio.run(_main(args.venus_poll, args.verbose))


if __name__ == "__main__":
    main()
