"""When a site may write a member's power, whether the member follows, and what it wrote.

A battery is not a setpoint register. Marstek support recommends at most one ES.SetMode every
5 to 10 s per battery, and a Venus written about every 1.3 s sat in standby for a day; a
Passive command lasts only its countdown (the battery falls back to 0 W when it ends, which is
the site's dead-man switch); firmware 148 leaves Passive silently and a first Passive command
can be ignored. So every write to a member passes a :class:`MemberWrites`: it sends when the
power changed by more than a deadband, renews the countdown before it runs out, re-sends when
the read-back shows the member is not following, and never more often than its policy allows.
A member polled far less often than it is written asks for one read of its own after each
write (:meth:`MemberWrites.read_back_due`), so what it does is known a settling time later.
A member that keeps not following is left out for a while (:meth:`MemberWrites.excluded`), so
the split gives its share to the others.

Returning a member to what it had before the site took over (the fail-safe) is not paced: it
is the one write that must always go out.

No Home Assistant imports; times are monotonic seconds passed in by the caller.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
import math

_HOUR_S = 3600.0
# A member delivering at least this share of what it was asked, the right way, follows.
_LIMITED_SHARE = 0.5


@dataclass(frozen=True, kw_only=True)
class WritePolicy:
    """How a kind of member may be written."""

    min_interval_s: float  # between two writes, whatever their reason
    deadband_w: float  # a smaller change of the target is not sent
    max_writes_per_hour: int  # the ceiling; renewals and re-sends count too
    # The countdown sent with each write (the member falls back by itself when it ends), and
    # how much of it may be left when the same power is sent again. None: no countdown.
    hold_s: float | None = None
    renew_when_left_s: float = 0.0
    # Read-backs that disagree before the member counts as not following, and how long it is
    # then left out.
    mismatches_to_exclude: int = 3
    exclude_s: float = 300.0
    # How far the measured power may be from the target and still count as following: a
    # battery never delivers exactly what it was asked (conversion, its own limits).
    follow_tolerance_w: float = 100.0
    follow_tolerance_ratio: float = 0.2
    # A member needs this long after a write before its read-back says anything.
    settle_s: float = 10.0
    # Ask the member's coordinator for one extra read settle_s after a write, unless its own
    # polling has read it since: a member polled far less often than it is written (a Venus,
    # every 30 s) would otherwise count with the power it was asked, unchecked, until then.
    read_back_after_write: bool = False


# One ES.SetMode every 10 s at most (the top of the range Marstek support gives), a countdown
# of 120 s renewed once less than 60 s are left, and at most 180 writes an hour (one every 20 s
# on average: a load that changes all the time costs no more than that), 60 of them kept for
# the renewals.
MARSTEK_PASSIVE = WritePolicy(
    min_interval_s=10.0,
    deadband_w=50.0,
    max_writes_per_hour=180,
    hold_s=120.0,
    renew_when_left_s=60.0,
    read_back_after_write=True,
)
# The ESS setpoint lives in RAM and the client keeps it alive itself (every 5 s); a write
# costs one VE.Bus frame, so the pacing only keeps the wire free for the refreshes. The unit
# is read every second anyway: no read-back is asked for.
VEBUS_ESS = WritePolicy(
    min_interval_s=2.0,
    deadband_w=25.0,
    max_writes_per_hour=1800,
    settle_s=3.0,
)


class WriteReason(StrEnum):
    """Why a write was sent."""

    START = "start"  # the first write since the site took the member over
    CHANGE = "change"  # the target moved by more than the deadband
    RENEW = "renew"  # the same power again, before the countdown runs out
    RESEND = "resend"  # the read-back showed the member was not following
    RESTORE = "restore"  # the fail-safe: back to what the member had before


class WriteResult(StrEnum):
    """How a write ended."""

    OK = "ok"
    FAILED = "failed"  # the device did not confirm it


@dataclass(frozen=True, kw_only=True)
class PlannedWrite:
    """A power to send now, and why."""

    power_w: int
    reason: WriteReason
    hold_s: float | None


class MemberWrites:
    """The write pacing and follow check of one member."""

    def __init__(self, policy: WritePolicy) -> None:
        self.policy = policy
        self.sent_w: int | None = None
        self.in_flight_w: int | None = None  # planned and not reported sent yet
        self._sent_at: float | None = None
        self._expires_at: float | None = None
        self._recent: deque[float] = deque()  # when each write in the last hour went out
        self._mismatches = 0
        self._resend = False
        self._excluded_until: float | None = None
        self._read_at: float | None = None  # the last reading counted
        self._read_back_asked_for: float | None = None  # the write (its sent_at) it was for

    # --- sending --------------------------------------------------------------------------

    def plan(self, target_w: float, now: float) -> PlannedWrite | None:
        """What to send for ``target_w`` now, or None when nothing should be sent yet."""
        policy = self.policy
        power = round(target_w)
        reason = self._reason(power, now)
        if reason is None:
            return None
        if self._sent_at is not None and now - self._sent_at < policy.min_interval_s:
            return None
        # Renewals may use the whole budget; the rest leaves them room, so a load that changes
        # all the time can never make the countdown run out while the site is running.
        budget = policy.max_writes_per_hour
        if reason is not WriteReason.RENEW:
            budget -= self.renewals_per_hour
        if self.writes_in_last_hour(now) >= budget:
            return None
        return PlannedWrite(power_w=power, reason=reason, hold_s=policy.hold_s)

    @property
    def sent_at(self) -> float | None:
        """When the last write went out (whatever its result)."""
        return self._sent_at

    @property
    def renewals_per_hour(self) -> int:
        """The writes an hour that renewing the countdown alone can take."""
        policy = self.policy
        if policy.hold_s is None:
            return 0
        return math.ceil(_HOUR_S / (policy.hold_s - policy.renew_when_left_s))

    def _reason(self, power: int, now: float) -> WriteReason | None:
        if self.sent_w is None:
            return WriteReason.START
        if self._expires_at is not None and self._expires_at - now <= (
            self.policy.renew_when_left_s
        ):
            return WriteReason.RENEW  # with the power wanted now, whatever it is
        if abs(power - self.sent_w) > self.policy.deadband_w:
            return WriteReason.CHANGE
        if self._resend:
            return WriteReason.RESEND
        return None

    def sent(self, write: PlannedWrite, now: float, result: WriteResult) -> None:
        """A planned write went out at ``now`` (a failed one counts against the budget too)."""
        self.in_flight_w = None
        self._recent.append(now)
        self._sent_at = now
        if result is WriteResult.OK:
            self.sent_w = write.power_w
            self._expires_at = None if write.hold_s is None else now + write.hold_s
            self._resend = False

    def writes_in_last_hour(self, now: float) -> int:
        """How many writes went out in the hour before ``now``."""
        while self._recent and now - self._recent[0] >= _HOUR_S:
            self._recent.popleft()
        return len(self._recent)

    # --- following ------------------------------------------------------------------------

    def read_back_due(self, now: float) -> bool:
        """Whether to ask for a read of the member now: its policy wants one, the last write
        has had ``settle_s`` to take effect, no reading since then has been counted, and none
        was asked for that write yet (one extra read per write at most)."""
        sent_at = self._sent_at
        if not self.policy.read_back_after_write or sent_at is None:
            return False
        settled_at = sent_at + self.policy.settle_s
        if now < settled_at or self._read_back_asked_for == sent_at:
            return False
        return self._read_at is None or self._read_at < settled_at

    def read_back_asked(self) -> None:
        """A read was asked for after the last write: not again until the next one."""
        self._read_back_asked_for = self._sent_at

    def read_back(self, *, in_mode: bool, measured_w: float | None, now: float) -> None:
        """What the member reported at ``now`` (when it was read): whether it is in the mode
        the site set (Passive, or the ESS setpoint held) and the battery power it measures.
        Each reading counts once, however often the site looks at it."""
        if self.sent_w is None or self._sent_at is None:
            return
        if now - self._sent_at < self.policy.settle_s:
            return  # too early: the member may still be ramping
        if self._read_at is not None and now <= self._read_at:
            return  # this reading was counted already
        self._read_at = now
        if in_mode and (measured_w is None or self._close_enough(measured_w)):
            self._mismatches = 0
            return
        self._mismatches += 1
        self._resend = True
        if self._mismatches >= self.policy.mismatches_to_exclude:
            self._excluded_until = now + self.policy.exclude_s
            self._mismatches = 0

    def _close_enough(self, measured_w: float) -> bool:
        sent = self.sent_w or 0
        policy = self.policy
        if not math.isfinite(measured_w):
            return False
        tolerance = max(policy.follow_tolerance_w, abs(sent) * policy.follow_tolerance_ratio)
        if abs(measured_w - sent) <= tolerance:
            return True
        # Delivering less, the right way, is a battery at its own limit (a charger's current,
        # a BMS near full): it follows, the controller takes what it does. Nothing, or the
        # wrong way, is not following.
        return measured_w * sent > 0 and abs(measured_w) >= abs(sent) * _LIMITED_SHARE

    def excluded(self, now: float) -> bool:
        """Whether the member is left out of the split for now."""
        until = self._excluded_until
        if until is None:
            return False
        if now >= until:
            self._excluded_until = None
            return False
        return True


@dataclass(frozen=True, kw_only=True)
class WriteRecord:
    """One write the site made, as the diagnostics show it."""

    at: float  # monotonic seconds
    member_id: str
    power_w: int
    reason: WriteReason
    result: WriteResult


class WriteLog:
    """The last writes, bounded, and counts of every write since the site started."""

    def __init__(self, size: int = 200) -> None:
        self.records: deque[WriteRecord] = deque(maxlen=size)
        self.counts: dict[tuple[str, WriteReason, WriteResult], int] = {}

    def add(self, record: WriteRecord) -> None:
        """Record a write."""
        self.records.append(record)
        key = (record.member_id, record.reason, record.result)
        self.counts[key] = self.counts.get(key, 0) + 1

    def total(self, member_id: str | None = None) -> int:
        """Writes counted, of one member or of all."""
        return sum(
            count for (member, _, _), count in self.counts.items() if member_id in (None, member)
        )
