"""Turn grid meter readings into a site power request: zero export and self-consumption.

Signs: the request, like every battery power, is positive = discharge, negative = charge; grid
power is positive = importing, negative = exporting. The controller only computes the site's
request; sharing it out (:func:`~.split.split_power`) and writing it happen elsewhere.

The modes:

* **Self-consumption** drives the grid power to ``target_grid_w`` (usually 0) both ways:
  discharge on import, charge on export.
* **Zero export** only keeps the export at or below ``target_export_w``: it charges from the
  surplus beyond that, and otherwise lets the charge go back to 0. It never discharges to cover
  an import. It aims one deadband above the export limit (see
  :attr:`ControllerSettings.setpoint_w`), so a settled loop stays within the limit.

Why it works the way it does:

* **Incremental.** Each meter reading corrects the previous command (new = previous +
  gain x error) instead of computing a power from the reading alone: the meter sees the house
  *with* the batteries' current power in it, so only the remaining error is new information.
* **Restart from the measured battery power.** When the batteries do not deliver what they were
  asked for (full, empty, derated, still ramping), the reading reflects what they *do*, so the
  correction is added to their measured power instead. Adding it to the command would wind it
  up, reading after reading, on a power nobody delivers, and when the batteries catch up (a
  limit lifts) the site would swing hard the other way. The same restart keeps the loop calm
  when the batteries answer more slowly than the meter reads. So pass their power whenever it
  is fresh (read about when the meter was): without it, batteries slower than the meter make
  the command overshoot before it settles. A stale battery power is worse than none: pass None.
* **Deadband.** Meters jitter by tens of watts; no correction is made inside the band, so the
  batteries are not rewritten every second for noise and the command settles to a constant.
* **Ramp limit.** Each step moves by at most ``ramp_w_per_s`` per second of meter time from
  where it starts (the previous command, or on a restart the measured power), so a single wrong
  reading (a glitch, a spike) cannot swing the batteries across their range. Counting from the
  measured power on a restart is deliberate: the batteries are there, not at the command they
  did not follow, and ramping down through watts they never delivered would only delay them.
* **Feasible range.** The caller passes what the batteries can do now; the command is clamped to
  it and the clamped value is what the next step starts from (anti-windup). Zero export's range
  ends at 0: it never asks for a discharge, whatever the ramp or the previous command. The range
  wins over the ramp: it is a hard limit, the ramp only a smoothing.
* **Gain from the meter's period.** See :func:`meter_gain`. The period is estimated from the
  intervals between readings (a median, so one missed or late reading does not count), and
  :func:`meter_too_slow` says when a meter is too slow to hold zero export at all.
* **No reading, no command.** A stale or unavailable reading (``None``) returns ``None`` and
  leaves the state untouched: the caller then runs its own fail-safe, the controller does not
  guess.

No Home Assistant imports, no clock: times are the intervals the caller passes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
import math
import statistics

# Above this meter period zero export refuses to start: with readings this far apart a surplus
# (a cloud passing, a kettle switching off) is exported for many seconds before the batteries
# even hear of it, and the small gain a slow meter needs makes it longer still.
MAX_METER_PERIOD_S = 10.0

# How many recent intervals between readings the period estimate is the median of.
_PERIOD_WINDOW = 7
# Before the first step, and for the ramp of a step whose interval is unknown: one second.
_DEFAULT_ELAPSED_S = 1.0


class ControlMode(StrEnum):
    """What the controller holds the grid power to."""

    ZERO_EXPORT = "zero_export"  # charge from surplus only: export at most target_export_w
    SELF_CONSUMPTION = "self_consumption"  # drive grid power to target_grid_w, both ways


@dataclass(frozen=True, kw_only=True)
class ControllerSettings:
    """How the controller reacts; the defaults suit a few home batteries behind a 1-2 s meter.

    * ``deadband_w`` 30 W: above the jitter of a P1 or Shelly meter (10-20 W) and the
      resolution of the batteries' setpoints, small enough not to be seen on a bill.
    * ``ramp_w_per_s`` 1000 W/s: a kettle (2 kW) is covered in two seconds, while one spurious
      reading moves a 1 s meter's command by at most 1 kW.
    * ``follow_tolerance_w`` 150 W: batteries miss their setpoint by tens of watts in normal
      running and their power is read at a slightly different moment than the meter; a
      difference beyond this is under-delivery, not noise.
    * ``max_gain`` 0.8 and ``reference_period_s`` 2 s: see :func:`meter_gain`.
    """

    mode: ControlMode = ControlMode.SELF_CONSUMPTION
    target_grid_w: float = 0.0  # self-consumption: the grid power to aim at (+ = import)
    target_export_w: float = 0.0  # zero export: the most export allowed (a magnitude)
    deadband_w: float = 30.0
    ramp_w_per_s: float = 1000.0
    follow_tolerance_w: float = 150.0
    max_gain: float = 0.8
    reference_period_s: float = 2.0

    def __post_init__(self) -> None:
        """Refuse settings that would make the loop meaningless, rather than run it oddly."""
        for name in ("target_export_w", "deadband_w", "ramp_w_per_s", "follow_tolerance_w"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, not {value}")
        if not math.isfinite(self.target_grid_w):
            raise ValueError("target_grid_w must be a finite number")
        if not 0 < self.max_gain <= 1:
            raise ValueError("max_gain must lie in (0, 1]: above 1 the loop overshoots")
        if not (math.isfinite(self.reference_period_s) and self.reference_period_s > 0):
            raise ValueError("reference_period_s must be a finite number > 0")

    @property
    def setpoint_w(self) -> float:
        """The grid power the loop aims at.

        In zero export the aim is one deadband *above* the export limit, so the whole band lies
        on the import side of it: a settled loop then never exports more than allowed, at the
        cost of importing up to two deadbands while it charges from surplus.
        """
        if self.mode is ControlMode.ZERO_EXPORT:
            return -self.target_export_w + self.deadband_w
        return self.target_grid_w


@dataclass(frozen=True, kw_only=True)
class ControlStep:
    """One decision: the site request, and why it is what it is (for diagnostics and tests)."""

    request_w: float  # the new command, + = discharge
    error_w: float  # grid power minus the setpoint: + = importing more than wanted
    gain: float
    meter_period_s: float | None  # the estimate the gain came from
    from_measured: bool  # the batteries under-delivered: started from their measured power
    ramp_limited: bool  # the correction was cut to the ramp allowance
    clamped: bool  # held to the feasible range


def meter_gain(period_s: float | None, settings: ControllerSettings | None = None) -> float:
    """The share of the grid error corrected per reading, for a meter updating every ``period_s``.

    ``gain = max_gain * min(1, sqrt(reference_period_s / period_s))``: the full ``max_gain`` up
    to the reference period, then falling with the square root of the period (0.8 up to 2 s,
    0.51 at 5 s, 0.36 at 10 s with the defaults). An unknown period counts as
    :data:`MAX_METER_PERIOD_S`, the slowest meter allowed: caution until the meter shows its pace.

    Why lower for slower meters: a reading is a single sample of a load that moves during the
    whole period it stands for, and the command it sets then stays for that whole period. A fast
    meter's reading caught on a transient (a kettle, a compressor start, a passing cloud) is
    undone a second later; a slow meter's costs its error for many seconds. With a smaller gain
    the command follows an average of several readings instead of the last one. The square root,
    rather than 1/period, brings a 10 s meter within 5 % of a step in about seven readings
    instead of seventeen. ``max_gain`` defaults to less than 1 because the grid and battery
    readings a correction rests on are never taken at quite the same moment: a full step would
    act on their mismatch.
    """
    settings = settings or ControllerSettings()
    if period_s is None or not math.isfinite(period_s) or period_s <= 0:
        period_s = MAX_METER_PERIOD_S
    return settings.max_gain * min(1.0, math.sqrt(settings.reference_period_s / period_s))


def meter_too_slow(period_s: float) -> bool:
    """Whether a meter updating every ``period_s`` seconds is too slow for zero export.

    The limit is :data:`MAX_METER_PERIOD_S` (10 s); the integration refuses to start zero
    export above it and raises a repair issue. A period that is not a number is too slow too.
    """
    return not period_s <= MAX_METER_PERIOD_S


class GridController:
    """The loop's state between readings: the last command and the meter's recent intervals.

    Call :meth:`step` with each new meter reading. ``settings`` may be replaced between steps
    (a mode change): the state carries over and the new range applies at once, so a switch to
    zero export stops a discharge on the next step.
    """

    def __init__(self, settings: ControllerSettings | None = None, *, command_w: float = 0.0):
        """Start from ``command_w``: 0, or the batteries' power when taking over from elsewhere."""
        self.settings = settings or ControllerSettings()
        self._command_w = _finite_or_zero(command_w)
        self._intervals: deque[float] = deque(maxlen=_PERIOD_WINDOW)

    @property
    def command_w(self) -> float:
        """The last command (the state the next step corrects)."""
        return self._command_w

    @property
    def meter_period_s(self) -> float | None:
        """The meter's update period: the median of its recent intervals, None before any."""
        return statistics.median(self._intervals) if self._intervals else None

    @property
    def gain(self) -> float:
        """The gain the next step would use, from the current period estimate."""
        return meter_gain(self.meter_period_s, self.settings)

    def reset(self, command_w: float = 0.0) -> None:
        """Forget the command (after a fail-safe wrote something else); keep the meter's pace."""
        self._command_w = _finite_or_zero(command_w)

    def note_interval(self, since_previous_s: float | None) -> None:
        """Learn the meter's pace from a reading no step acts on (the site is idle or holds a
        setpoint), so that a meter too slow is known before zero export is asked to start."""
        self._record_interval(since_previous_s)

    def step(
        self,
        grid_w: float | None,
        *,
        since_previous_s: float | None,
        battery_w: float | None,
        max_charge_w: float,
        max_discharge_w: float,
    ) -> ControlStep | None:
        """The new site request for a meter reading, or None when there is no reading.

        ``grid_w``: the reading, + = import; None (or not a number) when stale or unavailable.
        ``since_previous_s``: seconds since the previous reading given to a step (None for the
        first); it feeds both the period estimate and the ramp allowance (at most
        :data:`MAX_METER_PERIOD_S` seconds of ramp, however long the gap).
        ``battery_w``: the batteries' measured total power (+ = discharge), None if unknown.
        ``max_charge_w``, ``max_discharge_w``: what they can move now (magnitudes).
        """
        if grid_w is None or not math.isfinite(grid_w):
            return None
        settings = self.settings
        elapsed = self._record_interval(since_previous_s)
        period = self.meter_period_s
        gain = meter_gain(period, settings)

        low = -_magnitude(max_charge_w)
        high = _magnitude(max_discharge_w)
        if settings.mode is ControlMode.ZERO_EXPORT:
            high = 0.0

        previous = self._command_w
        base = previous
        from_measured = False
        if (
            battery_w is not None
            and math.isfinite(battery_w)
            and abs(battery_w - previous) > settings.follow_tolerance_w
        ):
            base, from_measured = float(battery_w), True

        error = grid_w - settings.setpoint_w
        # Importing more than wanted (error > 0) asks for more discharge, or less charge.
        wanted = base if abs(error) <= settings.deadband_w else base + gain * error

        allowance = settings.ramp_w_per_s * elapsed
        ramped = min(max(wanted, base - allowance), base + allowance)
        command = min(max(ramped, low), high)

        self._command_w = command
        return ControlStep(
            request_w=command,
            error_w=error,
            gain=gain,
            meter_period_s=period,
            from_measured=from_measured,
            ramp_limited=ramped != wanted,
            clamped=command != ramped,
        )

    def _record_interval(self, since_previous_s: float | None) -> float:
        """Add a valid interval to the period estimate; the seconds the ramp may use."""
        if since_previous_s is None or not math.isfinite(since_previous_s) or since_previous_s < 0:
            period = self.meter_period_s
            return period if period is not None else _DEFAULT_ELAPSED_S
        if since_previous_s > 0:
            self._intervals.append(float(since_previous_s))
        # After a gap (a stale meter, a restart) one reading still moves no more than the
        # slowest allowed meter's: a first reading after the gap may well be a glitch.
        return min(float(since_previous_s), MAX_METER_PERIOD_S)


def _magnitude(value: float) -> float:
    """A limit as a usable magnitude: negative, infinite or not a number is 0."""
    return value if math.isfinite(value) and value > 0 else 0.0


def _finite_or_zero(value: float) -> float:
    return float(value) if math.isfinite(value) else 0.0
