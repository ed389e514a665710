"""Writing a member's power: paced, renewed before the countdown ends, checked by read-back."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings, strategies as st

from custom_components.vebus_marstek.site.writes import (
    MARSTEK_PASSIVE,
    VEBUS_ESS,
    MemberWrites,
    PlannedWrite,
    WriteLog,
    WritePolicy,
    WriteReason,
    WriteRecord,
    WriteResult,
)


def send(writes: MemberWrites, target_w: float, now: float) -> PlannedWrite | None:
    """Plan and, when something is planned, send it successfully."""
    planned = writes.plan(target_w, now)
    if planned is not None:
        writes.sent(planned, now, WriteResult.OK)
    return planned


def test_the_first_write_goes_out_with_its_countdown() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    planned = send(writes, 812.4, now=0)
    assert planned == PlannedWrite(power_w=812, reason=WriteReason.START, hold_s=120.0)


def test_a_battery_is_written_at_most_every_ten_seconds() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    send(writes, 800, now=0)
    assert writes.plan(1500, now=9.9) is None  # support's advice: 5-10 s between writes
    assert writes.plan(1500, now=10) == PlannedWrite(
        power_w=1500, reason=WriteReason.CHANGE, hold_s=120.0
    )


def test_small_changes_are_not_sent() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    send(writes, 800, now=0)
    assert writes.plan(850, now=30) is None  # within the 50 W deadband
    assert writes.plan(851, now=30) is not None


def test_the_same_power_is_sent_again_before_the_countdown_runs_out() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    send(writes, 800, now=0)
    assert writes.plan(800, now=59) is None
    renewal = writes.plan(800, now=60)  # 60 s of the 120 s countdown left
    assert renewal == PlannedWrite(power_w=800, reason=WriteReason.RENEW, hold_s=120.0)


def test_a_unit_without_countdown_is_not_renewed() -> None:
    writes = MemberWrites(VEBUS_ESS)
    send(writes, -1500, now=0)
    assert writes.plan(-1500, now=3600) is None  # the client's keep-alive holds it


def test_a_failed_write_counts_but_changes_nothing() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    planned = writes.plan(800, now=0)
    assert planned is not None
    writes.sent(planned, 0, WriteResult.FAILED)
    assert writes.sent_w is None
    assert writes.writes_in_last_hour(1) == 1
    assert writes.plan(800, now=5) is None  # still paced
    assert send(writes, 800, now=10) == PlannedWrite(
        power_w=800, reason=WriteReason.START, hold_s=120.0
    )


def test_the_hourly_ceiling_holds_back_even_real_changes() -> None:
    policy = WritePolicy(min_interval_s=1, deadband_w=10, max_writes_per_hour=3)
    writes = MemberWrites(policy)
    for now, target in ((0, 100), (1, 200), (2, 300)):
        assert send(writes, target, now) is not None
    assert writes.plan(400, now=3) is None
    assert writes.plan(400, now=3600) is not None  # the first write has left the hour


def test_a_member_not_in_passive_after_a_write_gets_it_again() -> None:
    """Firmware 148 leaves Passive silently; a first Passive command can be ignored."""
    writes = MemberWrites(MARSTEK_PASSIVE)
    send(writes, 800, now=0)
    writes.read_back(in_mode=False, measured_w=0, now=5)  # too early to tell
    assert writes.plan(800, now=12) is None
    writes.read_back(in_mode=False, measured_w=0, now=12)
    assert writes.plan(800, now=12) == PlannedWrite(
        power_w=800, reason=WriteReason.RESEND, hold_s=120.0
    )


def test_one_reading_counts_once_however_often_it_is_looked_at() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    send(writes, 800, now=0)
    for _ in range(MARSTEK_PASSIVE.mismatches_to_exclude + 1):
        writes.read_back(in_mode=True, measured_w=0, now=15)  # the same poll, seen again
    assert not writes.excluded(15)


def test_a_read_back_is_asked_for_once_a_settling_time_after_each_write() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    assert not writes.read_back_due(now=0)  # nothing written yet
    send(writes, 800, now=0)
    assert not writes.read_back_due(now=9.9)  # the battery may still be ramping
    assert writes.read_back_due(now=10)
    writes.read_back_asked()
    assert not writes.read_back_due(now=10.5)  # once per write, even if no reading comes
    assert not writes.read_back_due(now=29)
    send(writes, 1500, now=30)
    assert not writes.read_back_due(now=39.9)
    assert writes.read_back_due(now=40)  # the next write asks again


def test_a_reading_of_its_own_after_the_write_makes_the_read_back_needless() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    send(writes, 800, now=0)
    writes.read_back(in_mode=True, measured_w=0.0, now=4)  # read before it settled: says nothing
    assert writes.read_back_due(now=10)
    writes.read_back(in_mode=True, measured_w=800.0, now=11)  # its own poll came first
    assert not writes.read_back_due(now=12)


def test_a_failed_write_is_read_back_too() -> None:
    """An unconfirmed Passive command may or may not have taken: only a read can tell."""
    writes = MemberWrites(MARSTEK_PASSIVE)
    send(writes, 800, now=0)
    planned = writes.plan(1500, now=10)
    assert planned is not None
    writes.sent(planned, now=10, result=WriteResult.FAILED)
    assert writes.read_back_due(now=20)


def test_a_unit_read_every_second_never_asks_for_a_read_back() -> None:
    writes = MemberWrites(VEBUS_ESS)
    send(writes, 800, now=0)
    assert not writes.read_back_due(now=100)


def test_a_member_that_follows_is_not_written_again() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    send(writes, 2000, now=0)
    writes.read_back(in_mode=True, measured_w=1650, now=15)  # within 20 %: it follows
    assert writes.plan(2000, now=20) is None


def test_a_member_at_its_own_limit_still_follows() -> None:
    """A MultiPlus charger gives 1975 W of the 2975 W asked: no resend, not left out."""
    writes = MemberWrites(VEBUS_ESS)
    send(writes, -2975, now=0)
    writes.read_back(in_mode=True, measured_w=-1975, now=5)
    assert writes.plan(-2975, now=6) is None
    writes.read_back(in_mode=True, measured_w=300, now=7)  # the wrong way: not following
    assert writes.plan(-2975, now=8) is not None


def test_a_member_that_keeps_not_following_is_left_out_for_a_while() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    send(writes, 800, now=0)
    now = 0.0
    for _ in range(MARSTEK_PASSIVE.mismatches_to_exclude):
        now += 15
        writes.read_back(in_mode=True, measured_w=0, now=now)
        send(writes, 800, now)
    assert writes.excluded(now)
    assert writes.excluded(now + MARSTEK_PASSIVE.exclude_s - 1)
    assert not writes.excluded(now + MARSTEK_PASSIVE.exclude_s)


def test_the_log_keeps_the_last_writes_and_counts_them_all() -> None:
    log = WriteLog(size=2)
    for at in range(3):
        log.add(
            WriteRecord(
                at=at, member_id="a", power_w=100, reason=WriteReason.CHANGE, result=WriteResult.OK
            )
        )
    log.add(
        WriteRecord(
            at=3, member_id="b", power_w=0, reason=WriteReason.RESTORE, result=WriteResult.FAILED
        )
    )
    assert [record.at for record in log.records] == [2, 3]
    assert (log.total(), log.total("a"), log.total("b")) == (4, 3, 1)


# A target every second for up to two hours: load noise, steps, zeros.
targets = st.lists(st.floats(-2500, 2500, allow_nan=False), min_size=1, max_size=7200)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(targets)
def test_writes_keep_the_pace_and_the_ceiling_whatever_the_targets(series: list[float]) -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    sent_at: list[float] = []
    for second, target in enumerate(series):
        if send(writes, target, float(second)) is not None:
            sent_at.append(float(second))
    gaps = [later - earlier for earlier, later in pairwise(sent_at)]
    assert all(gap >= MARSTEK_PASSIVE.min_interval_s for gap in gaps)
    for index, start in enumerate(sent_at):
        within_hour = [at for at in sent_at[index:] if at - start < 3600]
        assert len(within_hour) <= MARSTEK_PASSIVE.max_writes_per_hour


@settings(max_examples=30, deadline=None, database=None, derandomize=True)
@given(st.lists(st.sampled_from([-2000.0, 0.0, 300.0, 2500.0]), min_size=720, max_size=720))
def test_the_countdown_never_ends_while_the_site_runs(levels: list[float]) -> None:
    """The dead-man switch fires only when the site stops, whatever the load does meanwhile.

    Two hours of a load that may jump to another level every 10 s: more changes than the
    hourly ceiling lets through.
    """
    writes = MemberWrites(MARSTEK_PASSIVE)
    expires_at = 0.0
    series = [levels[second // 10] for second in range(7200)]
    for second, target in enumerate(series):
        now = float(second)
        assert second == 0 or now < expires_at
        planned = send(writes, target, now)
        if planned is not None:
            assert planned.hold_s is not None
            expires_at = now + planned.hold_s


def test_a_countdown_due_is_renewed_with_the_power_wanted_now() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    send(writes, 800, now=0)
    assert writes.plan(1200, now=61) == PlannedWrite(
        power_w=1200, reason=WriteReason.RENEW, hold_s=120.0
    )


def test_changes_leave_room_in_the_hour_for_the_renewals() -> None:
    writes = MemberWrites(MARSTEK_PASSIVE)
    assert writes.renewals_per_hour == 60
    now = 0.0
    for step in range(MARSTEK_PASSIVE.max_writes_per_hour - writes.renewals_per_hour):
        assert send(writes, 100 * (step % 2), now) is not None
        now += 10
    assert writes.plan(1000, now) is None  # changes have had their share of the hour
    now += 10  # the countdown of the last write is due for renewal
    assert writes.plan(1000, now + 40) == PlannedWrite(
        power_w=1000, reason=WriteReason.RENEW, hold_s=120.0
    )
