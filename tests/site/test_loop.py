"""One control step: read-backs, the controller's view of the batteries, the split and pacing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from custom_components.vebus_marstek.site import (
    MARSTEK_PASSIVE,
    VEBUS_ESS,
    ControllerSettings,
    ControlMode,
    GridController,
    Member,
    MemberState,
    SiteLoop,
    WriteReason,
    WriteResult,
)


def state(
    member_id: str,
    *,
    measured_w: float | None = 0.0,
    read_at: float | None = 0.0,
    in_mode: bool = True,
    busy: bool = False,
    driven: bool = True,
) -> MemberState:
    return MemberState(
        member=Member(
            member_id=member_id,
            available=True,
            soc_percent=50.0,
            capacity_wh=5120.0,
            battery_power_w=measured_w,
            max_charge_w=0.0,
            max_discharge_w=0.0,
        ),
        policy=MARSTEK_PASSIVE if driven else None,
        limit_w=2500.0,
        in_mode=in_mode,
        measured_w=measured_w,
        read_at=read_at,
        busy=busy,
    )


def send_all(loop: SiteLoop, states: list[MemberState], request_w: float, now: float) -> dict:
    members = loop.observe(states, now)
    planned = loop.plan(members, request_w, now)
    for member_id, write in planned:
        loop.sent(member_id, write, now, WriteResult.OK)
    return {member_id: write.power_w for member_id, write in planned}


def test_members_get_the_limits_the_site_may_use() -> None:
    loop = SiteLoop()
    members = loop.observe([state("a"), state("b", driven=False)], now=0)
    assert (members[0].max_discharge_w, members[0].can_follow) == (2500.0, True)
    assert members[1].can_follow is False  # no way to write it


def test_a_battery_not_read_since_its_write_counts_with_what_it_was_asked() -> None:
    """A Venus polled every 30 s still shows 0 W after a 1000 W write: that is not the truth."""
    settings = ControllerSettings(mode=ControlMode.SELF_CONSUMPTION)
    loop = SiteLoop(controller=GridController(settings))
    assert send_all(loop, [state("a")], 1000, now=0) == {"a": 1000}
    members = loop.observe([state("a", measured_w=0.0, read_at=-5.0)], now=1)
    # The grid still shows 300 W of import: the command grows from 1000 W, not from 0 W.
    request = loop.grid_request(members, 300.0, since_previous_s=1.0)
    assert request is not None
    assert request > 1000
    # Once read after the write, its own reading is what counts.
    members = loop.observe([state("a", measured_w=400.0, read_at=20.0)], now=21)
    later = loop.grid_request(members, 300.0, since_previous_s=1.0)
    assert later is not None
    assert later < 1000


def test_a_member_with_a_write_on_its_way_is_not_planned_again() -> None:
    loop = SiteLoop()
    send_all(loop, [state("a")], 1000, now=0)
    members = loop.observe([state("a", busy=True)], now=30)
    assert loop.plan(members, 2000, now=30) == []


def test_a_write_that_never_reported_back_does_not_block_the_member() -> None:
    """A write task that ended without saying how it went (cancelled at unload, say) leaves
    the member free once it is no longer busy: planned again, not held forever."""
    loop = SiteLoop()
    members = loop.observe([state("a")], now=0)
    assert [write.power_w for _, write in loop.plan(members, 1000, now=0)] == [1000]
    members = loop.observe([state("a", busy=True)], now=1)
    assert loop.plan(members, 1000, now=1) == [], "still on its way"
    members = loop.observe([state("a")], now=2)
    assert [write.power_w for _, write in loop.plan(members, 1000, now=2)] == [1000]


def test_a_member_that_misses_three_times_is_left_out() -> None:
    loop = SiteLoop()
    send_all(loop, [state("a"), state("b")], 4000, now=0)
    for now in (15.0, 30.0, 45.0):
        following = state("b", measured_w=2000.0, read_at=now)
        send_all(loop, [state("a", in_mode=False, read_at=now), following], 4000, now)
    following = state("b", measured_w=2000.0, read_at=45.0)
    members = loop.observe([state("a", read_at=45.0), following], now=46)
    assert [member.can_follow for member in members] == [False, True]


def test_letting_go_names_the_members_and_starts_afresh() -> None:
    loop = SiteLoop()
    send_all(loop, [state("a"), state("b", driven=False)], 1000, now=0)
    assert loop.release() == ["a"]
    assert loop.last_request_w is None
    assert send_all(loop, [state("a")], 1000, now=1) == {"a": 1000}  # a new start
    reasons = [record.reason for record in loop.log.records]
    assert reasons == [WriteReason.START, WriteReason.START]


def unit_state(**kwargs: Any) -> MemberState:
    """A VE.Bus unit with ESS, written every 2 s at most."""
    return replace(state("unit", **kwargs), policy=VEBUS_ESS)


def test_an_ess_unit_and_a_venus_are_paced_by_their_own_policies() -> None:
    loop = SiteLoop()
    venus, unit = state("venus"), unit_state()
    first = send_all(loop, [venus, unit], 2000, now=0)
    assert set(first) == {"venus", "unit"}
    again = send_all(loop, [venus, unit], 4000, now=3)
    assert list(again) == ["unit"]  # the Venus waits 10 s
    assert send_all(loop, [venus, unit], 4000, now=10) != {}  # then its share goes out


def test_a_member_that_cannot_be_written_yet_keeps_its_power_and_the_others_take_the_rest() -> None:
    """The Venus may be written again only 10 s after its last write: until then it delivers
    what it was sent, and the unit (written every 2 s) covers the rest of a new request."""
    loop = SiteLoop()
    venus, unit = state("venus"), unit_state()
    first = send_all(loop, [venus, unit], 2000, now=0)
    again = send_all(loop, [venus, unit], 3000, now=3)
    assert again == {"unit": 3000 - first["venus"]}


def test_a_change_within_a_members_deadband_goes_to_the_others() -> None:
    """60 W more is 30 W a member: not worth a Venus write (50 W deadband), so the Venus keeps
    its power and the unit takes the whole 60 W rather than its half of it."""
    loop = SiteLoop()
    venus, unit = state("venus"), unit_state()
    first = send_all(loop, [venus, unit], 2000, now=0)
    assert send_all(loop, [venus, unit], 2060, now=30) == {"unit": first["unit"] + 60}


def test_a_read_back_is_asked_for_once_a_settling_time_after_a_write() -> None:
    loop = SiteLoop()
    send_all(loop, [state("a", read_at=0.0)], 1000, now=0)
    loop.observe([state("a", read_at=0.0)], now=9)
    assert loop.read_backs_due(now=9) == []
    loop.observe([state("a", read_at=0.0)], now=10)
    assert loop.read_backs_due(now=10) == ["a"]
    loop.observe([state("a", read_at=0.0)], now=11)
    assert loop.read_backs_due(now=11) == []  # asked already: no second read for one write
    send_all(loop, [state("a", measured_w=1000.0, read_at=12.0)], 2000, now=20)
    loop.observe([state("a", measured_w=1000.0, read_at=12.0)], now=30)
    assert loop.read_backs_due(now=30) == ["a"]


def test_a_member_its_own_polling_read_after_the_write_needs_no_read_back() -> None:
    loop = SiteLoop()
    send_all(loop, [state("a", read_at=0.0)], 1000, now=0)
    loop.observe([state("a", measured_w=1000.0, read_at=10.5)], now=11)
    assert loop.read_backs_due(now=11) == []


def test_a_member_with_a_write_on_its_way_is_read_after_that_write() -> None:
    loop = SiteLoop()
    send_all(loop, [state("a", read_at=0.0)], 1000, now=0)
    members = loop.observe([state("a", read_at=0.0)], now=10)
    planned = loop.plan(members, 2000, now=10)  # sent, not landed yet
    assert [member_id for member_id, _ in planned] == ["a"]
    assert loop.read_backs_due(now=10) == []
    loop.observe([state("a", read_at=0.0, busy=True)], now=11)
    assert loop.read_backs_due(now=11) == []
    loop.sent("a", planned[0][1], now=11.5, result=WriteResult.OK)
    loop.observe([state("a", read_at=0.0)], now=21.5)
    assert loop.read_backs_due(now=21.5) == ["a"]


def test_a_unit_is_never_asked_for_a_read_back() -> None:
    loop = SiteLoop()
    send_all(loop, [unit_state(read_at=0.0)], 1000, now=0)
    loop.observe([unit_state(read_at=0.0)], now=60)
    assert loop.read_backs_due(now=60) == []
