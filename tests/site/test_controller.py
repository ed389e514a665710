"""The grid controller against a simulated house: a meter, lagging batteries, loads and PV.

The house's net load (consumption minus PV) changes in steps; the meter reports every
``period_s`` seconds the grid power at that moment; the batteries follow the site request with
a first-order lag and stop at their own cap, which may be below what the controller is told.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
import math

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.vebus_marstek.site import (
    MAX_METER_PERIOD_S,
    ControllerSettings,
    ControlMode,
    ControlStep,
    GridController,
    meter_gain,
    meter_too_slow,
)

PROPERTIES = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ZERO_EXPORT = ControllerSettings(mode=ControlMode.ZERO_EXPORT)
SELF_CONSUMPTION = ControllerSettings(mode=ControlMode.SELF_CONSUMPTION)


def steps(*changes: tuple[float, float]) -> Callable[[float], float]:
    """A net load that takes each value from its time on: ``steps((0, 300), (60, 2300))``."""

    def net_w(now: float) -> float:
        value = 0.0
        for start, level in changes:
            if now >= start:
                value = level
        return value

    return net_w


@dataclass
class Battery:
    """The site's batteries as one: a first-order lag toward the request, within their caps."""

    tau_s: float = 1.0
    cap_discharge_w: float = 5000.0
    cap_charge_w: float = 5000.0
    power_w: float = 0.0
    request_w: float = 0.0

    def advance(self, seconds: float) -> None:
        """Where the power is ``seconds`` later, the request held all along (exact)."""
        target = min(max(self.request_w, -self.cap_charge_w), self.cap_discharge_w)
        if self.tau_s <= 0:
            self.power_w = target
        else:
            self.power_w = target + (self.power_w - target) * math.exp(-seconds / self.tau_s)


@dataclass(frozen=True)
class Reading:
    """One meter reading and what the controller made of it."""

    at_s: float
    grid_w: float  # + = import
    battery_w: float
    step: ControlStep


@dataclass
class House:
    """A net load, a meter reporting every ``period_s``, batteries, and the controller."""

    net_w: Callable[[float], float]
    period_s: float = 1.0
    battery: Battery = field(default_factory=Battery)
    controller: GridController = field(default_factory=GridController)
    max_charge_w: float = 5000.0  # what the caller tells the controller the batteries can do
    max_discharge_w: float = 5000.0
    battery_measured: bool = True
    now_s: float = 0.0
    readings: list[Reading] = field(default_factory=list)

    def run(self, until_s: float) -> list[Reading]:
        """Meter readings from now until ``until_s``; the batteries move between them."""
        new: list[Reading] = []
        while self.now_s <= until_s + 1e-9:
            grid_w = self.net_w(self.now_s) - self.battery.power_w
            step = self.controller.step(
                grid_w,
                since_previous_s=self.period_s if self.readings or new else None,
                battery_w=self.battery.power_w if self.battery_measured else None,
                max_charge_w=self.max_charge_w,
                max_discharge_w=self.max_discharge_w,
            )
            assert step is not None
            new.append(Reading(self.now_s, grid_w, self.battery.power_w, step))
            self.battery.request_w = step.request_w
            self.battery.advance(self.period_s)
            self.now_s += self.period_s
        self.readings += new
        return new


def requests(readings: Sequence[Reading]) -> list[float]:
    return [reading.step.request_w for reading in readings]


def periods_until_inside(readings: Sequence[Reading], low: float, high: float) -> int:
    """How many readings it takes until the grid stays inside [low, high] to the end."""
    outside = [i for i, reading in enumerate(readings) if not low <= reading.grid_w <= high]
    return outside[-1] + 1 if outside else 0


def settled(readings: Sequence[Reading], count: int = 10) -> bool:
    """The last ``count`` requests are all the same: nothing left to correct, no oscillation."""
    return len({reading.step.request_w for reading in readings[-count:]}) == 1


# A load step ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period_s", "tau_s", "within_s"),
    [
        (1.0, 0.5, 6),  # a P1 or Shelly meter, batteries answering within a second
        (2.0, 1.0, 8),
        (5.0, 1.0, 35),
        (10.0, 2.0, 110),  # the slowest meter allowed: a small gain, about ten readings
        # Batteries slower than the meter: each reading restarts from their measured power, so
        # the command never runs ahead of them; the grid then settles at their own pace.
        (1.0, 2.0, 12),
        (0.5, 3.0, 30),
    ],
)
def test_after_a_load_step_the_grid_returns_inside_the_deadband(
    period_s: float, tau_s: float, within_s: float
) -> None:
    deadband = SELF_CONSUMPTION.deadband_w
    house = House(steps((0, 300), (300, 2300)), period_s, Battery(tau_s=tau_s))
    before = house.run(299)
    assert settled(before)
    assert abs(before[-1].grid_w) <= deadband

    after = house.run(300 + max(60, 3 * within_s))
    step_seen = after[0].grid_w if after[0].at_s == 300 else after[1].grid_w
    assert step_seen == pytest.approx(2000, abs=deadband)
    assert periods_until_inside(after, -deadband, deadband) * period_s <= within_s
    # Overshoot bounded: never more than a twentieth of the step pushed into export.
    assert min(reading.grid_w for reading in after) >= -100
    assert settled(after), "no oscillation: the command comes to rest"
    assert after[-1].step.request_w == pytest.approx(2300, abs=deadband)


def test_a_load_drop_is_followed_down_without_a_lasting_export() -> None:
    deadband = SELF_CONSUMPTION.deadband_w
    house = House(steps((0, 2500), (60, 400)), 1.0, Battery(tau_s=1.0))
    house.run(59)
    after = house.run(100)
    assert periods_until_inside(after, -deadband, deadband) <= 8
    assert max(reading.grid_w for reading in after) <= 250, "no undershoot into import"
    assert settled(after)


def test_a_slower_meter_settles_in_more_seconds_but_still_settles() -> None:
    seconds = {}
    for period_s in (1.0, 10.0):
        house = House(steps((0, 0), (100, 1500)), period_s, Battery(tau_s=1.0))
        house.run(99)
        after = house.run(100 + 30 * period_s)
        seconds[period_s] = periods_until_inside(after, -30, 30) * period_s
        assert settled(after)
    assert seconds[1.0] < seconds[10.0] <= 15 * 10.0


# Both modes ------------------------------------------------------------------------------


def test_self_consumption_discharges_on_import_and_charges_on_export() -> None:
    # Evening load, then a sunny noon with a surplus, then a cloud.
    house = House(steps((0, 900), (60, -1800), (120, 400)), controller=GridController())
    for until, expected in ((59, 900), (119, -1800), (179, 400)):
        readings = house.run(until)
        assert settled(readings)
        assert readings[-1].step.request_w == pytest.approx(expected, abs=30)
        assert abs(readings[-1].grid_w) <= 30


def test_self_consumption_aims_at_its_grid_target() -> None:
    target = ControllerSettings(mode=ControlMode.SELF_CONSUMPTION, target_grid_w=100)
    house = House(steps((0, 1000)), controller=GridController(target))
    readings = house.run(60)
    assert settled(readings)
    assert readings[-1].grid_w == pytest.approx(100, abs=30)


def test_zero_export_charges_the_surplus_and_never_discharges() -> None:
    # Import first (nothing to do), then a PV surplus, then a cloud and a kettle.
    house = House(
        steps((0, 800), (60, -1500), (120, -300), (150, 1200)),
        controller=GridController(ZERO_EXPORT),
    )
    readings = house.run(200)
    assert all(request <= 0 for request in requests(readings))
    by_time = {reading.at_s: reading for reading in readings}
    assert by_time[59].step.request_w == 0, "import is not the zero export's business"
    assert by_time[59].grid_w == 800
    surplus = [reading for reading in readings if 60 <= reading.at_s < 120]
    assert periods_until_inside(surplus, 0, 2 * ZERO_EXPORT.deadband_w) <= 8
    assert surplus[-1].step.request_w == pytest.approx(-1530, abs=30)
    assert by_time[149].step.request_w == pytest.approx(-330, abs=30)
    assert by_time[200].step.request_w == 0, "back to idle, not to a discharge"


def test_zero_export_allows_the_export_it_is_told_to() -> None:
    config = replace(ZERO_EXPORT, target_export_w=500)
    house = House(steps((0, -2000)), controller=GridController(config))
    readings = house.run(60)
    assert settled(readings)
    # The band lies wholly above the limit: never more than 500 W out once settled.
    assert -500 <= readings[-1].grid_w <= -500 + 2 * config.deadband_w
    assert readings[-1].step.request_w == pytest.approx(-1500 - config.deadband_w, abs=30)


def test_a_switch_to_zero_export_stops_a_discharge_at_once() -> None:
    controller = GridController(SELF_CONSUMPTION, command_w=1500)
    controller.settings = ZERO_EXPORT
    step = controller.step(
        0, since_previous_s=1, battery_w=1500, max_charge_w=3000, max_discharge_w=3000
    )
    assert step is not None
    assert step.request_w == 0, "the range wins over the ramp"
    assert step.clamped


# Under-delivery, ramp, clamp --------------------------------------------------------------


def exporting(readings: Sequence[Reading], deadband_w: float = 30) -> int:
    """How many readings saw more export than the deadband."""
    return sum(reading.grid_w < -deadband_w for reading in readings)


def test_batteries_that_under_deliver_do_not_wind_the_command_up() -> None:
    # The batteries give at most 1000 W though the caller believes 5000 W possible.
    net = steps((0, 3000), (60, 200))
    capped = House(net, battery=Battery(tau_s=1.0, cap_discharge_w=1000))
    held = capped.run(59)
    gain = capped.controller.gain
    assert all(request <= 1000 + gain * 2000 + 1 for request in requests(held))
    assert held[-1].step.from_measured
    assert settled(held), "held a bounded step above what they deliver, not growing"
    # The load drops: the command starts from what the batteries do, so the export is short.
    dropped = capped.run(80)
    assert exporting(dropped) <= 3
    assert settled(dropped)
    assert abs(dropped[-1].grid_w) <= 30

    # Without the batteries' measured power the integrator winds up to the whole range, and
    # the same load drop then exports for many readings: what the restart prevents.
    blind = House(net, battery=Battery(tau_s=1.0, cap_discharge_w=1000), battery_measured=False)
    assert blind.run(59)[-1].step.request_w == 5000
    assert exporting(blind.run(80)) >= 7


def test_the_correction_starts_from_the_measured_power_beyond_the_tolerance() -> None:
    controller = GridController(command_w=2000)
    step = controller.step(
        1000, since_previous_s=1, battery_w=500, max_charge_w=5000, max_discharge_w=5000
    )
    assert step is not None
    assert step.from_measured
    assert step.request_w == pytest.approx(500 + step.gain * 1000)
    # Within the tolerance the previous command is kept as the base: no chasing meter noise.
    step = controller.step(
        1000,
        since_previous_s=1,
        battery_w=controller.command_w + 100,
        max_charge_w=5000,
        max_discharge_w=5000,
    )
    assert step is not None
    assert not step.from_measured


@pytest.mark.parametrize("tau_s", [0.0, 1.0])
def test_the_ramp_limits_how_fast_the_batteries_are_moved(tau_s: float) -> None:
    config = replace(SELF_CONSUMPTION, ramp_w_per_s=200)
    house = House(
        steps((0, 0), (20, 4000), (60, -3000)),
        battery=Battery(tau_s=tau_s),
        controller=GridController(config),
    )
    readings = house.run(150)
    assert any(reading.step.ramp_limited for reading in readings)
    assert settled(readings)
    # The batteries' power never moves by more than the ramp allows between two readings.
    for earlier, later in pairwise(readings):
        assert abs(later.battery_w - earlier.battery_w) <= 200 * 1.0 + 1e-6
    if tau_s == 0:  # batteries that follow at once: no restart, the command itself ramps
        for previous, request in pairwise(requests(readings)):
            assert abs(request - previous) <= 200 * 1.0 + 1e-6


def test_the_ramp_allowance_is_the_time_since_the_previous_reading() -> None:
    controller = GridController(replace(SELF_CONSUMPTION, ramp_w_per_s=200))
    step = controller.step(
        10_000, since_previous_s=0.5, battery_w=0, max_charge_w=5000, max_discharge_w=5000
    )
    assert step is not None
    assert step.request_w == 100
    assert step.ramp_limited
    step = controller.step(
        10_000, since_previous_s=3, battery_w=100, max_charge_w=5000, max_discharge_w=5000
    )
    assert step is not None
    assert step.request_w == 700
    # After a gap, no more than the slowest allowed meter's ramp: the reading may be a glitch.
    step = controller.step(
        10_000, since_previous_s=120, battery_w=700, max_charge_w=5000, max_discharge_w=5000
    )
    assert step is not None
    assert step.request_w == 700 + 200 * MAX_METER_PERIOD_S


def test_on_a_restart_the_ramp_counts_from_the_measured_power() -> None:
    # Asked for 2600 W, the batteries give 1000 W; the load drops: the ramp counts from the
    # 1000 W they deliver (down to 500 W), not from the 2600 W they ignore (2100 W).
    controller = GridController(replace(SELF_CONSUMPTION, ramp_w_per_s=500), command_w=2600)
    step = controller.step(
        -800, since_previous_s=1, battery_w=1000, max_charge_w=5000, max_discharge_w=5000
    )
    assert step is not None
    assert step.from_measured
    assert step.ramp_limited
    assert step.request_w == 500


def test_the_command_is_clamped_to_the_feasible_range_and_the_clamp_is_the_state() -> None:
    controller = GridController()
    clamped = []
    for _ in range(10):
        step = controller.step(
            4000, since_previous_s=1, battery_w=None, max_charge_w=600, max_discharge_w=800
        )
        assert step is not None
        assert step.request_w <= 800
        clamped.append(step.clamped)
    assert controller.command_w == 800
    assert clamped[-1]
    # The load goes: the command comes down from 800 at once, not from a wound-up integral.
    step = controller.step(
        -800, since_previous_s=1, battery_w=800, max_charge_w=600, max_discharge_w=800
    )
    assert step is not None
    assert step.request_w == pytest.approx(800 - step.gain * 800)
    for _ in range(10):
        step = controller.step(
            -5000, since_previous_s=1, battery_w=None, max_charge_w=600, max_discharge_w=800
        )
        assert step is not None
        assert step.request_w >= -600


def test_a_feasible_range_that_shrinks_moves_the_command_beyond_the_ramp() -> None:
    controller = GridController(command_w=-2500)
    step = controller.step(
        -1000, since_previous_s=1, battery_w=-2500, max_charge_w=0, max_discharge_w=2000
    )
    assert step is not None
    assert step.request_w == 0, "a full battery cannot be asked to charge"


def test_inside_the_deadband_nothing_changes() -> None:
    controller = GridController(command_w=700)
    for grid_w in (29.0, -30.0, 0.0, 12.5):
        step = controller.step(
            grid_w, since_previous_s=1, battery_w=720, max_charge_w=5000, max_discharge_w=5000
        )
        assert step is not None
        assert step.request_w == 700


# No reading, the meter's pace --------------------------------------------------------------


@pytest.mark.parametrize("grid_w", [None, math.nan, math.inf])
def test_no_reading_gives_no_command_and_changes_nothing(grid_w: float | None) -> None:
    controller = GridController(command_w=1200)
    for _ in range(3):
        controller.step(0, since_previous_s=2, battery_w=1200, max_charge_w=0, max_discharge_w=2e3)
    period, command = controller.meter_period_s, controller.command_w
    assert (
        controller.step(
            grid_w, since_previous_s=1, battery_w=0, max_charge_w=5000, max_discharge_w=5000
        )
        is None
    )
    assert (controller.meter_period_s, controller.command_w) == (period, command)


def test_reset_forgets_the_command_but_not_the_meter() -> None:
    controller = GridController(command_w=1200)
    controller.step(0, since_previous_s=3, battery_w=None, max_charge_w=0, max_discharge_w=2e3)
    controller.reset()
    assert (controller.command_w, controller.meter_period_s) == (0, 3)


def test_a_slow_meter_is_detected() -> None:
    assert MAX_METER_PERIOD_S == 10
    assert not meter_too_slow(1)
    assert not meter_too_slow(10)
    assert meter_too_slow(10.5)
    assert meter_too_slow(60)
    assert meter_too_slow(math.nan)

    controller = GridController(ZERO_EXPORT)
    for _ in range(5):
        controller.step(0, since_previous_s=15, battery_w=0, max_charge_w=1e3, max_discharge_w=0)
    assert controller.meter_period_s == 15
    assert meter_too_slow(controller.meter_period_s)


def test_an_idle_site_learns_the_meter_pace_without_a_command() -> None:
    controller = GridController(command_w=400)
    for interval in (None, 15.0, 15.0, -1.0, 15.0):
        controller.note_interval(interval)
    assert controller.meter_period_s == 15, "unknown and impossible intervals do not count"
    assert controller.command_w == 400


def test_the_period_estimate_ignores_a_missed_reading() -> None:
    controller = GridController()
    for interval in (1.0, 1.0, 2.0, 1.0, 1.0, 0.0):
        controller.step(
            0, since_previous_s=interval, battery_w=0, max_charge_w=0, max_discharge_w=0
        )
    assert controller.meter_period_s == 1.0, "the median: one late reading does not count"


def test_a_slower_meter_gets_a_smaller_gain() -> None:
    gains = [meter_gain(period) for period in (0.5, 1, 2, 5, 10, 30)]
    assert gains[0] == gains[1] == gains[2] == ControllerSettings().max_gain
    assert gains[2] > gains[3] > gains[4] > gains[5] > 0
    assert meter_gain(None) == meter_gain(MAX_METER_PERIOD_S), "unknown: cautious"

    fast, slow = GridController(), GridController()
    for _ in range(5):
        for controller, interval in ((fast, 1.0), (slow, 10.0)):
            controller.step(
                0, since_previous_s=interval, battery_w=0, max_charge_w=0, max_discharge_w=0
            )
    assert slow.gain < fast.gain


@pytest.mark.parametrize(
    "changes",
    [
        {"deadband_w": -1},
        {"ramp_w_per_s": math.nan},
        {"target_export_w": -100},
        {"follow_tolerance_w": math.inf},
        {"target_grid_w": math.inf},
        {"max_gain": 0},
        {"max_gain": 1.5},
        {"reference_period_s": 0},
    ],
)
def test_settings_that_make_no_sense_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        ControllerSettings(**changes)  # type: ignore[arg-type]


# Properties ------------------------------------------------------------------------------

controller_settings = st.builds(
    ControllerSettings,
    mode=st.sampled_from(ControlMode),
    target_grid_w=st.floats(-500, 500),
    target_export_w=st.floats(0, 1000),
    deadband_w=st.floats(0, 200),
    ramp_w_per_s=st.floats(0, 5000),
    follow_tolerance_w=st.floats(0, 500),
    max_gain=st.floats(0.05, 1),
    reference_period_s=st.floats(0.5, 5),
)
limits = st.floats(0, 10_000) | st.just(0.0) | st.just(-50.0) | st.just(math.nan)
powers = st.floats(-20_000, 20_000)


@dataclass(frozen=True)
class Input:
    grid_w: float | None
    since_previous_s: float
    battery_w: float | None
    max_charge_w: float
    max_discharge_w: float


inputs = st.builds(
    Input,
    grid_w=powers | st.none() | st.just(math.nan),
    since_previous_s=st.floats(0, 30),
    battery_w=powers | st.none(),
    max_charge_w=limits,
    max_discharge_w=limits,
)


def feed(controller: GridController, sequence: Sequence[Input]) -> Iterator[tuple[float, Input]]:
    """(previous command, input) for every step that gave a command."""
    for item in sequence:
        previous = controller.command_w
        step = controller.step(
            item.grid_w,
            since_previous_s=item.since_previous_s,
            battery_w=item.battery_w,
            max_charge_w=item.max_charge_w,
            max_discharge_w=item.max_discharge_w,
        )
        assert (step is None) == (item.grid_w is None or math.isnan(item.grid_w))
        if step is not None:
            assert step.request_w == controller.command_w
            yield previous, item


def feasible(value: float) -> float:
    return value if value > 0 else 0.0  # the test's own reading of "a usable limit"


def base_of(config: ControllerSettings, previous: float, battery_w: float | None) -> float:
    """Where a step starts: the previous command, or the measured power beyond the tolerance."""
    if battery_w is not None and abs(battery_w - previous) > config.follow_tolerance_w:
        return battery_w
    return previous


@PROPERTIES
@given(controller_settings, powers, st.lists(inputs, max_size=30))
def test_the_command_lies_in_the_feasible_range_and_moves_within_the_ramp(
    config: ControllerSettings, start_w: float, sequence: list[Input]
) -> None:
    controller = GridController(config, command_w=start_w)
    for previous, item in feed(controller, sequence):
        low = -feasible(item.max_charge_w)
        high = feasible(item.max_discharge_w)
        if config.mode is ControlMode.ZERO_EXPORT:
            high = 0.0
        command = controller.command_w
        assert low <= command <= high
        # The ramp, unless the range itself forces the command further.
        base = base_of(config, previous, item.battery_w)
        allowance = config.ramp_w_per_s * min(item.since_previous_s, MAX_METER_PERIOD_S)
        assert min(max(base - allowance, low), high) - 1e-6 <= command
        assert command <= min(max(base + allowance, low), high) + 1e-6


@PROPERTIES
@given(
    controller_settings.map(lambda config: replace(config, mode=ControlMode.ZERO_EXPORT)),
    powers,
    st.lists(inputs, max_size=30),
)
def test_zero_export_never_asks_for_a_discharge(
    config: ControllerSettings, start_w: float, sequence: list[Input]
) -> None:
    controller = GridController(config, command_w=start_w)
    for _ in feed(controller, sequence):
        assert controller.command_w <= 0


@PROPERTIES
@given(
    mode=st.sampled_from(ControlMode),
    net_w=st.floats(-6000, 6000),
    period_s=st.floats(0.5, MAX_METER_PERIOD_S),
    tau_s=st.floats(0, 3),
    max_charge_w=st.floats(0, 5000),
    max_discharge_w=st.floats(0, 5000),
    deadband_w=st.floats(10, 100),
    target_grid_w=st.floats(-200, 200),
    target_export_w=st.floats(0, 500),
    measured=st.booleans(),
)
def test_for_a_constant_load_the_loop_converges(
    mode: ControlMode,
    net_w: float,
    period_s: float,
    tau_s: float,
    max_charge_w: float,
    max_discharge_w: float,
    deadband_w: float,
    target_grid_w: float,
    target_export_w: float,
    measured: bool,
) -> None:
    config = ControllerSettings(
        mode=mode,
        deadband_w=deadband_w,
        target_grid_w=target_grid_w,
        target_export_w=target_export_w,
    )
    house = House(
        steps((0, net_w)),
        period_s,
        Battery(tau_s=tau_s, cap_discharge_w=max_discharge_w, cap_charge_w=max_charge_w),
        GridController(config),
        max_charge_w=max_charge_w,
        max_discharge_w=max_discharge_w,
        battery_measured=measured,
    )
    # The loop settles at the pace of the slower of the meter and the batteries.
    readings = house.run(60 * period_s + 40 * tau_s)
    assert settled(readings), requests(readings)[-12:]
    last = readings[-1]
    command = last.step.request_w
    high = 0.0 if mode is ControlMode.ZERO_EXPORT else max_discharge_w
    at_a_bound = command in (-max_charge_w, high)
    assert abs(last.grid_w - config.setpoint_w) <= deadband_w + 1e-6 or at_a_bound
