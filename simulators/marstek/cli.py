"""`python -m simulators.marstek`: serve simulated batteries on their UDP endpoints."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
import logging

from simulators.standalone import run_until_stopped

from .profiles import PROFILES
from .simulator import MarstekSimulator
from .wire import DEFAULT_PORT

# One logger for the whole simulator, named after the package its users import.
_LOGGER = logging.getLogger(__package__)


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    profile: str
    host: str
    port: int | None  # None: the common --port


def parse_device_spec(text: str) -> DeviceSpec:
    """PROFILE@HOST[:PORT]."""
    profile, sep, where = text.partition("@")
    if not sep or not where:
        raise argparse.ArgumentTypeError(f"expected PROFILE@HOST[:PORT], got {text!r}")
    if profile not in PROFILES:
        raise argparse.ArgumentTypeError(f"unknown profile {profile!r}")
    host, colon, port_text = where.partition(":")
    port: int | None = None
    if colon:
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            raise argparse.ArgumentTypeError(f"bad port in {text!r}")
        port = int(port_text)
    return DeviceSpec(profile, host, port)


def _parse_latency(text: str) -> tuple[float, float]:
    low_text, _, high_text = text.partition(",")
    try:
        low = float(low_text)
        high = float(high_text) if high_text else low
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected MIN[,MAX] seconds, got {text!r}") from err
    if low < 0 or high < low:
        raise argparse.ArgumentTypeError(f"bad latency range {text!r}")
    return (low, high)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.marstek",
        description="Simulate Marstek Venus batteries speaking the UDP Open API.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.2",
        help="address of the single device (not 127.0.0.1 if a client on this host uses the "
        "same port: it sends from 127.0.0.1:PORT and the replies would loop back here)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="UDP API port")
    parser.add_argument("--profile", default="venus-e3", choices=sorted(PROFILES))
    parser.add_argument(
        "--device",
        action="append",
        type=parse_device_spec,
        default=[],
        metavar="PROFILE@HOST[:PORT]",
        help="add a device (repeatable); replaces --host/--profile",
    )
    parser.add_argument("--latency", type=_parse_latency, help="reply delay MIN[,MAX] seconds")
    parser.add_argument("--loss", type=float, help="probability a request gets no reply")
    parser.add_argument("--duplicates", type=int, help="extra copies of every reply")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ble-mac", help="BLE MAC of the device (single device only)")
    parser.add_argument("--soc", type=float, default=50.0, help="initial SOC %%")
    parser.add_argument("--house-load", type=float, default=350.0, help="CT house load W")
    parser.add_argument("--pv", type=float, default=0.0, help="PV W per channel (Venus A/D)")
    parser.add_argument("--list-profiles", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def _profile_table() -> str:
    header = f"{'name':14} {'device':14} {'src prefix':12} {'ver':>4}  family"
    rows = [
        f"{p.name:14} {p.device:14} {p.src_prefix:12} {p.ver:>4}  {p.family}"
        for p in PROFILES.values()
    ]
    return "\n".join([header, *rows])


def _simulators_from_args(args: argparse.Namespace) -> list[MarstekSimulator]:
    specs: list[DeviceSpec] = args.device or [DeviceSpec(args.profile, args.host, None)]
    if args.ble_mac and len(specs) > 1:
        raise SystemExit("--ble-mac only applies to a single device")
    sims = []
    for index, spec in enumerate(specs):
        try:
            sim = MarstekSimulator(
                profile=spec.profile,
                host=spec.host,
                port=spec.port if spec.port is not None else args.port,
                ble_mac=args.ble_mac,
                seed=args.seed + index,
            )
        except ValueError as err:
            raise SystemExit(str(err)) from err
        if args.latency is not None:
            sim.faults.latency = args.latency
        if args.loss is not None:
            sim.faults.loss = args.loss
        if args.duplicates is not None:
            sim.faults.duplicates = args.duplicates
        pv = [args.pv] * sim.profile.pv_channels
        sim.set_ground_truth(soc=args.soc, house_load_w=args.house_load, pv_w=pv)
        sims.append(sim)
    return sims


async def _serve(sims: list[MarstekSimulator], stop: asyncio.Event) -> None:
    try:
        for sim in sims:
            await sim.start()
            print(
                f"{sim.profile.name}: {sim.src} ver {sim.profile.ver} on {sim.host}:{sim.port}",
                flush=True,
            )
        await stop.wait()
    finally:
        for sim in sims:
            await sim.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.list_profiles:
        print(_profile_table())
        return 0
    sims = _simulators_from_args(args)
    if any(sim.host == "127.0.0.1" for sim in sims):
        _LOGGER.warning(
            "a client on this host bound to the same port will not get replies from "
            "127.0.0.1; prefer 127.0.0.2 and up"
        )
    return run_until_stopped(lambda stop: _serve(sims, stop), verbose=args.verbose)
