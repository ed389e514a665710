"""Whether PV input 1 might report watts instead of tenths of a watt.

Every Venus A and D firmware seen reports PV 1 in 0.1 W and PV 2-4 in W. A firmware that
changed this would make PV 1 read ten times too low. One reading cannot tell: a shaded or
smaller PV 1 string looks the same. So the check only collects evidence, reading after
reading, and never rescales by itself: it lets the user be asked.
"""

from __future__ import annotations

from statistics import fmean

from .models import PvStatus

EVIDENCE_READINGS = 30  # consecutive readings (half an hour at the default PV interval)
MIN_OTHER_POWER_W = 50.0  # the other inputs must produce, or there is nothing to compare


class Pv1UnitCheck:
    """Counts readings in which PV 1, taken as watts, is as strong as the other inputs.

    With similar strings on every input, a 0.1 W reading of PV 1 is 5 to 25 times the others'
    average in raw numbers; a reading in watts is about equal to it. A reading with the 0.1 W
    signature clears the evidence.
    """

    def __init__(self) -> None:
        self._watt_like_readings = 0

    @property
    def suspect(self) -> bool:
        """Whether enough consecutive readings look like PV 1 is in watts."""
        return self._watt_like_readings >= EVIDENCE_READINGS

    def observe(self, status: PvStatus, pv1_scale: float) -> None:
        """Take one PV.GetStatus reading, with PV 1 scaled by ``pv1_scale``."""
        if len(status.channels) < 2 or not 0 < pv1_scale < 1:
            return  # only a PV 1 read in tenths can be misread
        first, *others = status.channels
        producing = [c.power_w for c in others if c.power_w is not None and c.power_w > 0]
        if first.power_w is None or not producing or fmean(producing) < MIN_OTHER_POWER_W:
            return
        ratio = first.power_w / pv1_scale / fmean(producing)
        if 0.5 <= ratio <= 2.0:
            self._watt_like_readings += 1
        elif ratio >= 4.0:
            self._watt_like_readings = 0
