"""One control step: read-backs, the controller's view of the batteries, the split and pacing."""

from __future__ import annotations

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


def test_an_ess_unit_and_a_venus_are_paced_by_their_own_policies() -> None:
    loop = SiteLoop()
    venus = state("venus")
    unit = MemberState(**{**vars(state("unit")), "policy": VEBUS_ESS})
    send_all(loop, [venus, unit], 2000, now=0)
    assert send_all(loop, [venus, unit], 4000, now=3) == {"unit": 2000}  # the Venus waits 10 s
