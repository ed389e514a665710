"""Energy totals that never go backwards, whatever the device reports in between.

Home Assistant treats any drop of a ``total_increasing`` sensor as a meter reset and starts
a new cycle, so a single transient zero would double-count a battery's whole lifetime.
No Home Assistant imports: these are plain values that the coordinator persists.
"""

from __future__ import annotations

from collections.abc import Mapping

# A real counter reset (firmware update, factory reset) keeps reading lower; a glitch doesn't.
RESET_CONFIRMATIONS = 3
# Plausibility bound for growth: no battery here moves more than this through one counter.
DEFAULT_MAX_POWER_W = 10_000.0
_SPIKE_SLACK_WH = 50.0


class MonotonicTotal:
    """A device lifetime counter, published as a total that only grows.

    * ``None`` or a transient ``0`` leaves the total unchanged;
    * a lower value seen :data:`RESET_CONFIRMATIONS` times in a row is a real reset: the old
      reading becomes an offset, so the published total keeps growing from where it was;
    * a jump larger than the device could have produced since the last reading is held back
      until the next reading confirms it.
    """

    def __init__(
        self,
        *,
        offset: float = 0.0,
        last_raw: float | None = None,
        max_power_w: float = DEFAULT_MAX_POWER_W,
    ) -> None:
        self._offset = offset
        self._last_raw = last_raw
        self._last_at: float | None = None
        self._max_power_w = max_power_w
        self._lower_streak: list[float] = []
        self._suspect: float | None = None

    @property
    def value(self) -> float | None:
        """The total to publish, in the counter's unit."""
        return None if self._last_raw is None else round(self._offset + self._last_raw, 3)

    def update(self, raw: float | None, now: float) -> None:
        """Take a new reading taken at ``now`` (monotonic seconds)."""
        if raw is None or raw < 0:
            return
        last = self._last_raw
        if last is None:
            self._accept(raw, now)
            return
        if raw >= last:
            self._lower_streak.clear()
            if self._is_spike(raw - last, now):
                self._hold_spike(raw, now)
            else:
                self._accept(raw, now)
            return
        self._suspect = None
        if raw == 0:
            return  # devices report 0 for a moment while their BMS or meter restarts
        if self._lower_streak and raw < self._lower_streak[-1]:
            self._lower_streak.clear()
        self._lower_streak.append(raw)
        if len(self._lower_streak) >= RESET_CONFIRMATIONS:
            self._offset += last
            self._lower_streak.clear()
            self._accept(raw, now)

    def _is_spike(self, growth: float, now: float) -> bool:
        if self._last_at is None or growth <= _SPIKE_SLACK_WH:
            return False
        hours = max(now - self._last_at, 0.0) / 3600
        return growth > self._max_power_w * hours * 1.5 + _SPIKE_SLACK_WH

    def _hold_spike(self, raw: float, now: float) -> None:
        suspect = self._suspect
        if suspect is not None and raw >= suspect and not self._is_spike(raw - suspect, now):
            self._accept(raw, now)  # the next reading carried on from it: it was real
        else:
            self._suspect = raw

    def _accept(self, raw: float, now: float) -> None:
        self._last_raw = raw
        self._last_at = now
        self._suspect = None

    def as_dict(self) -> dict[str, float | None]:
        """What to persist."""
        return {"offset": self._offset, "last_raw": self._last_raw}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> MonotonicTotal:
        """Restore from :meth:`as_dict`; anything unreadable starts empty."""
        return cls(
            offset=stored_number(data.get("offset")) or 0.0,
            last_raw=stored_number(data.get("last_raw")),
        )


class EnergyIntegrator:
    """Energy split by the sign of a power, integrated over time (left Riemann sum).

    Used where a device has no energy counters: battery charge/discharge from battery power,
    grid import/export from AC-input power. Intervals longer than ``max_gap_s`` (missed polls,
    device offline, restart) are not integrated: guessing across a gap would invent energy.
    """

    def __init__(
        self, *, max_gap_s: float, positive_wh: float = 0.0, negative_wh: float = 0.0
    ) -> None:
        self.max_gap_s = max_gap_s
        self.positive_wh = positive_wh
        self.negative_wh = negative_wh
        self._last: tuple[float, float] | None = None

    def add(self, power_w: float | None, now: float) -> None:
        """Add a sample (W) taken at ``now`` (monotonic seconds); ``None`` breaks the series."""
        if power_w is None:
            self._last = None
            return
        if self._last is not None:
            last_power, last_at = self._last
            elapsed = now - last_at
            if 0 < elapsed <= self.max_gap_s:
                energy = abs(last_power) * elapsed / 3600
                if last_power > 0:
                    self.positive_wh += energy
                else:
                    self.negative_wh += energy
        self._last = (power_w, now)

    def as_dict(self) -> dict[str, float]:
        """What to persist."""
        return {"positive_wh": self.positive_wh, "negative_wh": self.negative_wh}

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, max_gap_s: float) -> EnergyIntegrator:
        """Restore from :meth:`as_dict`; anything unreadable starts at zero."""
        return cls(
            max_gap_s=max_gap_s,
            positive_wh=stored_number(data.get("positive_wh")) or 0.0,
            negative_wh=stored_number(data.get("negative_wh")) or 0.0,
        )


def stored_number(value: object) -> float | None:
    """A stored non-negative number, or ``None`` for anything else."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None
