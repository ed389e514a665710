"""Command line tool for an MK2/MK3 interface, for checking wiring before installing.

    python -m custom_components.vebus_marstek.vebus ports
    python -m custom_components.vebus_marstek.vebus status --device /dev/serial/by-id/usb-Victron...
    python -m custom_components.vebus_marstek.vebus monitor --interval 1 --device socket://...
    python -m custom_components.vebus_marstek.vebus set-mode charger_only --device ...
    python -m custom_components.vebus_marstek.vebus set-current-limit 16 --device ...

Prints JSON on stdout. Errors print one line on stderr and exit non-zero. ``status`` and the
first line of ``monitor`` carry ``signs``: what the sign of every signed value means.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from dataclasses import asdict
import json
import math
import sys
import time
from typing import NoReturn
from urllib.parse import urlsplit

from .client import VebusClient
from .errors import VebusError
from .messages import RamVar
from .models import SwitchMode
from .ports import list_ports
from .refresh import Read, ReadKind, TierPacing, fast_reads, read_values, status_reads
from .report import SIGNS, status_report

EXIT_ERROR = 1
EXIT_USAGE = 2
# Port URLs serialx opens besides device paths, and whether they name host:port.
URL_SCHEMES = {"socket": True, "tcp": True, "rfc2217": True, "esphome": False}
# 'A' selects VE.Bus addresses 0-31.
MAX_ADDRESS = 31


class _Parser(argparse.ArgumentParser):
    """Bad input is one line naming the argument and exit code 2, before the port is opened."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message}\n")


def _device(text: str) -> str:
    """A device path (/dev/...) or a URL serialx opens (socket://host:port, ...)."""
    if "://" not in text:
        if not text.startswith("/"):
            raise argparse.ArgumentTypeError(
                f"{text!r} is neither a device path (/dev/...) nor a URL (socket://host:port)"
            )
        return text
    parts = urlsplit(text)
    if parts.scheme not in URL_SCHEMES:
        schemes = ", ".join(f"{scheme}://" for scheme in URL_SCHEMES)
        raise argparse.ArgumentTypeError(f"{text!r}: the URL must start with one of {schemes}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or (URL_SCHEMES[parts.scheme] and (port is None or port < 1)):
        raise argparse.ArgumentTypeError(f"{text!r} does not name a host and a port (1-65535)")
    return text


def _number(low: float, unit: str, *, whole: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < low:
            kind = "a whole number" if whole else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind} of {unit} ({low:g} or more)")
        return value

    return parse


def _address(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_ADDRESS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a VE.Bus address (0-{MAX_ADDRESS})")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """ports, status, monitor, set-mode and set-current-limit."""
    parser = _Parser(
        prog="python -m custom_components.vebus_marstek.vebus",
        description="Talk to a Victron MultiPlus/Quattro through an MK2/MK3 interface.",
        epilog="signs: " + "; ".join(f"{key}: {meaning}" for key, meaning in SIGNS.items()),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ports", help="list serial ports with their stable by-id paths")
    amps = _number(0.1, "amperes")
    for name, text in (
        ("status", "read everything once"),
        ("monitor", "read powers every --interval, everything every --slow-interval"),
        ("set-mode", "switch on, off, charger only or inverter only"),
        ("set-current-limit", "set the runtime AC input current limit"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--device",
            required=True,
            type=_device,
            help="serial device path or URL (socket://host:port)",
        )
        command.add_argument("--address", type=_address, default=0, help="VE.Bus address")
        if name == "monitor":
            command.add_argument(
                "--count",
                type=_number(0, "refreshes", whole=True),
                default=0,
                help="refreshes (0 = forever)",
            )
            command.add_argument(
                "--interval",
                type=_number(0, "seconds"),
                default=1.0,
                help="seconds between lines: battery and AC values and the powers",
            )
            command.add_argument(
                "--slow-interval",
                type=_number(0, "seconds"),
                default=5.0,
                help="seconds between reads of everything else (limits, LEDs, states, SoC)",
            )
        if name == "set-mode":
            command.add_argument("mode", choices=[mode.value for mode in SwitchMode])
            command.add_argument("--current-limit", type=amps, help="A, also set the limit")
        if name == "set-current-limit":
            command.add_argument("amps", type=amps)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tool; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except (VebusError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR


async def _run(args: argparse.Namespace) -> int:
    if args.command == "ports":
        ports = await asyncio.get_running_loop().run_in_executor(None, list_ports)
        _print([{**asdict(port), "path": port.path, "mk3": port.looks_like_mk3} for port in ports])
        return 0
    client = VebusClient(args.device, address=args.address)
    try:
        unit = await client.connect()
        if args.command == "status":
            _print({**status_report(unit, await client.read_status()), "signs": SIGNS})
        elif args.command == "monitor":
            await _monitor(client, args.count, args.interval, args.slow_interval)
        elif args.command == "set-mode":
            await client.set_switch_mode(SwitchMode(args.mode), args.current_limit)
            _print({"switch_mode": args.mode, "result": "ok"})
        else:
            await client.set_input_current_limit(args.amps)
            _print({"input_current_limit": args.amps, "result": "ok"})
    finally:
        await client.close()
    return 0


async def _monitor(client: VebusClient, count: int, interval: float, slow_interval: float) -> None:
    """One line per refresh: the fast tier each time, the slow tier when it is due."""
    done = 0
    status = None
    pacing = TierPacing(period_s=interval, asked_slow_s=slow_interval)
    while count <= 0 or done < count:
        started = time.monotonic()
        unit = await client.ensure_session()
        everything = status_reads(unit)
        slow = pacing.is_due(started)
        reads = everything if slow else fast_reads(everything)
        status = await read_values(client, unit, reads, status)
        seconds = time.monotonic() - started
        pacing.record(started, seconds, slow=slow)
        report = status_report(unit, status)
        report["refreshed"] = sorted(_name(read) for read in reads)
        report["refresh_seconds"] = round(seconds, 3)
        report["slow_every_seconds"] = round(pacing.slow_s, 1)
        if done == 0:
            report["signs"] = SIGNS
        _print(report, indent=None)
        done += 1
        if count <= 0 or done < count:
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


def _name(read: Read) -> str:
    """How a line names what it refreshed: dc, phase1, input_config, ram:input_power, ..."""
    if read.kind is ReadKind.RAM:
        return f"ram:{RamVar(read.number).name.lower()}"
    return f"{read.kind}{read.number}" if read.kind is ReadKind.PHASE else str(read.kind)


def _print(value: object, indent: int | None = 2) -> None:
    print(json.dumps(value, indent=indent), flush=True)
