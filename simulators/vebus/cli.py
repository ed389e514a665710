"""`python -m simulators.vebus`: serve a simulated MK3 over TCP or a pseudo-terminal."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import logging

from simulators.standalone import run_until_stopped

from .models import MODELS
from .plant import INITIAL_SOC
from .simulator import VebusSimulator
from .wire import MK2_VERSION, MK3_VERSION

# One logger for the whole simulator, named after the package its users import.
_LOGGER = logging.getLogger(__package__)


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}") from err


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.vebus",
        description="Simulate an MK3-USB with a MultiPlus behind it (MK2 protocol, 2400 baud).",
    )
    parser.add_argument("--model", default="multiplus-ii-48-3000", choices=sorted(MODELS))
    parser.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help="listen like ser2net")
    parser.add_argument("--pty", action="store_true", help="open a pseudo-terminal")
    parser.add_argument("--phases", type=int, choices=(1, 3), default=1)
    parser.add_argument(
        "--ess", action=argparse.BooleanOptionalAction, default=None, help="ESS assistant"
    )
    parser.add_argument("--battery-monitor", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--reply-format", choices=("long", "short"), default="long")
    parser.add_argument("--led-appended", action="store_true", help="LED bytes on every frame")
    parser.add_argument("--no-version-frames", action="store_true")
    parser.add_argument("--no-pace", action="store_true", help="no 2400-baud pacing")
    parser.add_argument("--mk2", action="store_true", help="an MK2 (fw 1130134) instead of MK3")
    parser.add_argument("--unsolicited-vebus-frames", action="store_true")
    parser.add_argument("--soc", type=float, default=INITIAL_SOC, help="initial SoC 0..1")
    parser.add_argument("--load", type=float, default=300.0, help="AC load W")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def _simulator_from_args(args: argparse.Namespace) -> VebusSimulator:
    sim = VebusSimulator(
        args.model,
        reply_format=args.reply_format,
        led_appended=args.led_appended,
        version_frames=not args.no_version_frames,
        phases=args.phases,
        ess=args.ess,
        battery_monitor=args.battery_monitor,
        interface_version=MK2_VERSION if args.mk2 else MK3_VERSION,
        pace=not args.no_pace,
        seed=args.seed,
    )
    sim.faults.unsolicited_vebus_frames = args.unsolicited_vebus_frames
    sim.set_ground_truth(soc=args.soc, ac_load_w=args.load)
    return sim


async def _serve(args: argparse.Namespace, stop: asyncio.Event) -> None:
    sim = _simulator_from_args(args)
    try:
        if args.tcp is not None:
            host, port = args.tcp
            print(f"{sim.model.name}: {await sim.start_tcp(host, port)}", flush=True)
        if args.pty:
            print(f"{sim.model.name}: {await sim.start_pty()}", flush=True)
        await stop.wait()
    finally:
        await sim.stop()
        if args.verbose:
            for frame in sim.frames_received:
                _LOGGER.debug("received %s", frame.raw.hex(" "))


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.tcp is None and not args.pty:
        args.tcp = ("127.0.0.1", 5000)
    return run_until_stopped(lambda stop: _serve(args, stop), verbose=args.verbose)
