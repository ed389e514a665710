"""One full VE.Bus refresh at real 2400-baud pacing, against the wire's lower bound.

The simulator paces every byte at 2400 baud 8N1 in both directions and waits its reply
latency before answering, so no client can refresh faster than

    bound = (bytes sent + bytes received) x 10 / 2400 + the reply latency of each request.

The report gives the measured time as a ratio to that bound, and compares the bytes with
reading every value with a request of its own. Run with ``scripts/bench``.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
import statistics
import time

from custom_components.vebus_marstek.vebus import RamVar, VebusClient, wire_seconds
from simulators.vebus import VebusSimulator

MODELS = ("multiplus-12-500", "multiplus-24-3000", "multiplus-ii-48-3000")
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


async def _bench_model(model: str, rounds: int) -> tuple[Measurement, Measurement]:
    sim = VebusSimulator(model=model, pace=True, version_frames=False)
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


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(_main(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
