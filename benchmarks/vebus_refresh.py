"""VE.Bus refreshes at real 2400-baud pacing, against the wire's lower bound.

The simulator paces every byte at 2400 baud 8N1 in both directions and waits its reply
latency before answering, so no client can refresh faster than

    bound = (bytes sent + bytes received) x 10 / 2400 + the reply latency of each request.

Two tables: a full refresh (everything the status holds), with the bytes it would cost to
read every value with a request of its own; and both tiers run as the integration runs them
(the fast one every second, the slow one paced to the wire budget), with the fast refresh's
ratio to the bound and the share of the wire both tiers take: what is left is for writes and
the ESS keep-alive. Run with ``scripts/bench``.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
import statistics
import time

from custom_components.vebus_marstek.vebus import (
    WIRE_BUDGET,
    RamVar,
    Reads,
    TierPacing,
    VebusClient,
    fast_reads,
    read_values,
    status_reads,
    wire_seconds,
)
from simulators.vebus import VebusSimulator

MODELS = ("multiplus-12-500", "multiplus-24-3000", "multiplus-ii-48-3000")
# The fast tier reads one AC frame per phase: a three-phase system is its largest case.
THREE_PHASE = "multiplus-24-3000"
SLOW_PERIOD_S = 5.0
# Every value of a refresh, read one by one: each RAM variable, then the three frames that
# have no RAM variable (input current limit and switch, LEDs, device state).
SINGLE_VALUES = (
    RamVar.MAINS_VOLTAGE,
    RamVar.MAINS_CURRENT,
    RamVar.INVERTER_VOLTAGE,
    RamVar.INVERTER_CURRENT,
    RamVar.BATTERY_VOLTAGE,
    RamVar.BATTERY_CURRENT,
    RamVar.INVERTER_PERIOD,
    RamVar.MAINS_PERIOD,
    RamVar.SOC,
    RamVar.INVERTER_POWER,
    RamVar.INPUT_POWER,
    RamVar.OUTPUT_POWER,
)


@dataclass(frozen=True)
class Measurement:
    """One refresh."""

    seconds: float
    requests: int
    wire_bytes: int
    bound_seconds: float

    @property
    def ratio(self) -> float:
        """Measured time over the lower bound."""
        return self.seconds / self.bound_seconds


async def _measure(sim: VebusSimulator, refresh: object) -> Measurement:
    assert callable(refresh)
    frames_before = len(sim.frames_received)
    sent_before, received_before = sim.counters.bytes_sent, sim.counters.bytes_received
    started = time.perf_counter()
    await refresh()
    seconds = time.perf_counter() - started
    frames = sim.frames_received[frames_before:]
    wire_bytes = (sim.counters.bytes_sent - sent_before) + (
        sim.counters.bytes_received - received_before
    )
    latency = sum(sim.latencies.for_request(frame.command, frame.args) for frame in frames)
    return Measurement(seconds, len(frames), wire_bytes, wire_seconds(wire_bytes) + latency)


FAST_PERIOD_S = 1.0
STEADY_S = 30.0  # how long the tiers are timed once the pacing has measured both


@dataclass(frozen=True)
class TierRun:
    """The two tiers run as the integration runs them, on a 1-second period."""

    fast: Measurement  # the median fast refresh
    slow_every_s: float  # the slow tier's period the pacing chose
    wire_share: float  # busy time over elapsed time, both tiers, in the steady state


async def _bench_tiers(model: str, phases: int = 1) -> TierRun:
    """Both tiers paced by :class:`TierPacing` (as the coordinator does) for a while."""
    sim = VebusSimulator(model=model, pace=True, version_frames=False, phases=phases)
    url = await sim.start_tcp()
    client = VebusClient(url, timeout_s=1.0, slow_timeout_s=2.0)
    pacing = TierPacing(period_s=FAST_PERIOD_S, asked_slow_s=SLOW_PERIOD_S)
    fast_runs: list[Measurement] = []
    busy_s, slow_refreshes, steady_since = 0.0, 0, None
    try:
        unit = await client.connect()
        sim.set_ground_truth(ac_load_w=900.0)
        everything = status_reads(unit)
        status = None
        while steady_since is None or time.monotonic() - steady_since < STEADY_S:
            started = time.monotonic()
            slow = pacing.is_due(started)
            reads = everything if slow else fast_reads(everything)

            async def refresh(reads: Reads = reads) -> None:
                nonlocal status
                status = await read_values(client, unit, reads, status)

            run = await _measure(sim, refresh)
            pacing.record(started, run.seconds, slow=slow)
            if steady_since is not None:
                busy_s += run.seconds
            if slow:
                slow_refreshes += 1
                # The second slow refresh is the first one the pacing has measured.
                if slow_refreshes == 2:
                    steady_since = time.monotonic()
            else:
                fast_runs.append(run)
            await asyncio.sleep(max(0.0, FAST_PERIOD_S - (time.monotonic() - started)))
        elapsed = time.monotonic() - steady_since
    finally:
        await client.close()
        await sim.stop()
    return TierRun(_median(fast_runs), pacing.slow_s, busy_s / elapsed)


async def _bench_model(model: str, rounds: int, phases: int = 1) -> tuple[Measurement, Measurement]:
    sim = VebusSimulator(model=model, pace=True, version_frames=False, phases=phases)
    url = await sim.start_tcp()
    client = VebusClient(url, timeout_s=1.0, slow_timeout_s=2.0)
    try:
        await client.connect()
        sim.set_ground_truth(ac_load_w=900.0)

        async def one_by_one() -> None:
            for var in SINGLE_VALUES:
                await client.read_ram_vars([var])
            await client.read_input_config()
            await client.read_leds()
            await client.read_device_state()

        full = [await _measure(sim, client.read_status) for _ in range(rounds)]
        single = [await _measure(sim, one_by_one) for _ in range(rounds)]
    finally:
        await client.close()
        await sim.stop()
    return _median(full), _median(single)


def _median(runs: list[Measurement]) -> Measurement:
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


async def _main(rounds: int) -> None:
    print(
        "| Model | Requests | Bytes | Refresh (s) | Wire bound (s) | Ratio "
        "| One value per request: requests / bytes |"
    )
    print("|---|---|---|---|---|---|---|")
    ratios = []
    for model in MODELS:
        full, single = await _bench_model(model, rounds)
        ratios.append(full.ratio)
        print(
            f"| {model} | {full.requests} | {full.wire_bytes} | {full.seconds:.3f} "
            f"| {full.bound_seconds:.3f} | {full.ratio:.3f} "
            f"| {single.requests} / {single.wire_bytes} |"
        )
    print(
        f"\nMedian of {rounds} refreshes per model; worst ratio {max(ratios):.3f}, "
        f"mean {statistics.mean(ratios):.3f} (target <= 1.15)."
    )
    print(
        "\n| System | Fast tier requests | Bytes | Refresh (s) | Wire bound (s) | Ratio "
        "| Fast tier's wire share | Slow tier every (s) | Wire share, both tiers |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    shares = []
    systems = [(model, 1) for model in MODELS] + [(THREE_PHASE, 3)]
    for model, phases in systems:
        run = await _bench_tiers(model, phases)
        fast = run.fast
        shares.append(run.wire_share)
        name = model if phases == 1 else f"{model}, 3 phases"
        print(
            f"| {name} | {fast.requests} | {fast.wire_bytes} | {fast.seconds:.3f} "
            f"| {fast.bound_seconds:.3f} | {fast.ratio:.3f} "
            f"| {fast.seconds / FAST_PERIOD_S:.0%} | {run.slow_every_s:.1f} "
            f"| {run.wire_share:.0%} |"
        )
    print(
        f"\nFast tier every {FAST_PERIOD_S:.0f} s, slow tier asked every {SLOW_PERIOD_S:.0f} s "
        f"and paced to the wire budget; each system timed for {STEADY_S:.0f} s once the "
        f"pacing had measured both tiers; largest wire share {max(shares):.0%} "
        f"(budget {WIRE_BUDGET:.0%})."
    )


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(_main(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
