"""One control step of a site: read-backs, the request, the split and the writes to send.

The integration (``site_control.py``) and the settling benchmark drive their members through
this one loop; each only says what its members report (:class:`MemberState`) and carries out
the writes the loop plans, reporting how each went (:meth:`SiteLoop.sent`). A step goes:

1. :meth:`SiteLoop.observe`: each driven member's read-back, then the members as the split
   sees them (limits from what the site may ask; those left out cannot follow);
2. the request: a setpoint, or :meth:`SiteLoop.grid_request` for a new meter reading;
3. :meth:`SiteLoop.plan`: the split, and for each member the write its pacing allows now;
4. :meth:`SiteLoop.read_backs_due`: the members to read once now, a settling time after a
   write, when their own polling has not read them since.

No Home Assistant imports; times are monotonic seconds passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
import math

from .controller import GridController
from .models import Member, SplitSettings, SplitState
from .split import split_power
from .writes import MemberWrites, PlannedWrite, WriteLog, WritePolicy, WriteRecord, WriteResult


@dataclass(frozen=True, kw_only=True)
class MemberState:
    """A member at a step, as its own polling last read it."""

    member: Member
    policy: WritePolicy | None  # how the site may write it; None: the site cannot drive it
    limit_w: float  # the most the site may ask of it, either way
    in_mode: bool  # in the mode the site's writes put it in (Passive, an ESS setpoint held)
    measured_w: float | None  # its battery power, + = discharging
    read_at: float | None  # when those values were read
    busy: bool = False  # a write to it is on its way


class SiteLoop:
    """The state a site keeps between steps: what it drives, its split and its controller."""

    def __init__(
        self,
        split_settings: SplitSettings | None = None,
        controller: GridController | None = None,
        log: WriteLog | None = None,
    ) -> None:
        self.split_settings = split_settings or SplitSettings()
        self.controller = controller or GridController()
        self.log = log or WriteLog()
        self.writes: dict[str, MemberWrites] = {}  # the members the site drives now
        self.last_request_w: float | None = None
        self._split_state = SplitState()
        self._states: dict[str, MemberState] = {}

    def observe(self, states: Sequence[MemberState], now: float) -> list[Member]:
        """Take the members' read-backs; the members as the split may use them."""
        self._states = {state.member.member_id: state for state in states}
        for member_id, driven in self.writes.items():
            read = self._states.get(member_id)
            if read is None or not read.busy:
                driven.in_flight_w = None  # landed, or never started
            if read is not None and read.read_at is not None:
                # As of the member's last read: a reading older than the write says nothing.
                driven.read_back(in_mode=read.in_mode, measured_w=read.measured_w, now=read.read_at)
        members = []
        for state in states:
            member = state.member
            writes = self.writes.get(member.member_id)
            if state.policy is None or (writes is not None and writes.excluded(now)):
                members.append(replace(member, can_follow=False))
                continue
            members.append(
                replace(
                    member,
                    max_charge_w=state.limit_w,
                    max_discharge_w=state.limit_w,
                    can_follow=member.can_follow and state.limit_w > 0,
                )
            )
        return members

    def grid_request(
        self, members: Sequence[Member], grid_w: float | None, since_previous_s: float | None
    ) -> float | None:
        """The controller's request for a new meter reading (None without a reading)."""
        followers = [member for member in members if member.can_follow and member.available]
        step = self.controller.step(
            grid_w,
            since_previous_s=since_previous_s,
            battery_w=self._battery_w(followers),
            max_charge_w=math.fsum(member.max_charge_w for member in followers),
            max_discharge_w=math.fsum(member.max_discharge_w for member in followers),
        )
        return None if step is None else step.request_w

    def _battery_w(self, followers: Sequence[Member]) -> float | None:
        """What the members the site can drive deliver now, as far as it can be known.

        A member not read since its last write (a Venus is polled every 30 s by default) counts
        with the power it was asked for: its old reading would make the controller restart from
        a power the battery no longer has, reading after reading.
        """
        powers = []
        for member in followers:
            power = member.battery_power_w
            writes = self.writes.get(member.member_id)
            if writes is not None and (sent_at := writes.sent_at) is not None:
                state = self._states.get(member.member_id)
                read_at = None if state is None else state.read_at
                if read_at is None or read_at < sent_at + writes.policy.settle_s:
                    power = writes.sent_w
            if power is not None:
                powers.append(power)
        return math.fsum(powers) if powers else None

    def plan(
        self, members: Sequence[Member], request_w: float, now: float
    ) -> list[tuple[str, PlannedWrite]]:
        """Split ``request_w`` and say which writes to send now, member by member.

        A member that gets no write now (its pacing, its deadband, a write still on its way)
        goes on delivering what it was last sent, whatever its share: the others are given the
        rest of the request. Without that, a Venus that may be written only every 10 s holds
        its share of a change back for up to 10 s while a unit written every 2 s sits idle at
        its own share, and the grid stays off by the difference.
        """
        split = split_power(
            members, request_w, now=now, state=self._split_state, settings=self.split_settings
        )
        self._split_state = split.state
        self.last_request_w = request_w
        powers = dict(split.powers_w)
        held = self._held(members, powers, now)
        if held and any(member.can_follow and member.member_id not in held for member in members):
            # Nor does it bring in a member the split left idle: a remainder of a few watts
            # would take a Venus over, and lock it out of writes for 10 s, for nothing.
            others = [
                replace(member, can_follow=False)
                if member.member_id in held or powers.get(member.member_id, 0.0) == 0
                else member
                for member in members
            ]
            # The split's state stays the first split's: holding a member is not leaving it.
            rest = split_power(
                others,
                request_w - math.fsum(held.values()),
                now=now,
                state=split.state,
                settings=self.split_settings,
            )
            for member_id in powers:
                if member_id not in held:
                    powers[member_id] = rest.powers_w.get(member_id, 0.0)
        planned = []
        for member_id, power_w in powers.items():
            state = self._states.get(member_id)
            if state is None or state.policy is None:
                continue
            writes = self.writes.get(member_id)
            if writes is None:
                if power_w == 0:
                    continue  # nothing asked of it yet: leave it alone
                writes = self.writes[member_id] = MemberWrites(state.policy)
            if state.busy or writes.in_flight_w is not None:
                continue  # a write is on its way; the next step plans again
            if (write := writes.plan(power_w, now)) is not None:
                planned.append((member_id, write))
                writes.in_flight_w = write.power_w
        return planned

    def _held(
        self, members: Sequence[Member], powers: dict[str, float], now: float
    ) -> dict[str, float]:
        """The members that follow but get no write now, with the power they deliver."""
        held = {}
        for member in members:
            member_id = member.member_id
            writes = self.writes.get(member_id)
            state = self._states.get(member_id)
            if not member.can_follow or writes is None or state is None:
                continue
            if (sent_w := writes.sent_w) is None:
                continue  # nothing it delivers is known: it takes its share
            if state.busy or writes.in_flight_w is not None:
                in_flight = writes.in_flight_w
                held[member_id] = float(sent_w if in_flight is None else in_flight)
            elif writes.plan(powers.get(member_id, 0.0), now) is None:
                held[member_id] = float(sent_w)
        return held

    def read_backs_due(self, now: float) -> list[str]:
        """The members to read once now (each is asked for once per write).

        Call after :meth:`plan`: a member with a write on its way is read after that one.
        """
        due = []
        for member_id, writes in self.writes.items():
            state = self._states.get(member_id)
            if (state is not None and state.busy) or writes.in_flight_w is not None:
                continue
            if writes.read_back_due(now):
                writes.read_back_asked()
                due.append(member_id)
        return due

    def sent(self, member_id: str, write: PlannedWrite, now: float, result: WriteResult) -> None:
        """How a planned write went; logged and counted."""
        if (writes := self.writes.get(member_id)) is not None:
            writes.sent(write, now, result)
        self.log.add(
            WriteRecord(
                at=now,
                member_id=member_id,
                power_w=write.power_w,
                reason=write.reason,
                result=result,
            )
        )

    def release(self) -> list[str]:
        """Let every member go; the ones the site drove, to be put back by the caller."""
        driven, self.writes = list(self.writes), {}
        self._split_state = SplitState()
        self.last_request_w = None
        self.controller.reset()
        return driven
