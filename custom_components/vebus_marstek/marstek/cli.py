"""Command line tool for checking a Marstek battery's Open API before installing anything.

    python -m custom_components.vebus_marstek.marstek discover
    python -m custom_components.vebus_marstek.marstek status --host 192.168.1.50
    python -m custom_components.vebus_marstek.marstek set-mode passive --host ... --power -800

Prints JSON on stdout; ``status`` carries ``signs``: what the sign of every signed value
means. Errors print one line on stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from datetime import time
import json
import math
import sys
from typing import NoReturn

from .client import MarstekClient, Pacing
from .connection import DEFAULT_PORT
from .discovery import broadcast_targets, discover
from .errors import MarstekError, MarstekMethodUnsupportedError
from .messages import PASSIVE_MAX_DURATION_S, Method, normalise_ip
from .models import WEEKDAYS, ManualSlot, OperatingMode

EXIT_ERROR = 1
EXIT_USAGE = 2
# Bounds no model exceeds; each battery's own limits are checked once it has answered.
MAX_POWER_W = 10_000
MAX_SLOTS = 10


# Every signed value of ``status``, with what its sign means.
SIGNS = {
    "battery_power": "+ discharging, - charging (the Energy dashboard's convention)",
    "ongrid_power": "+ the battery's AC port feeds the house or grid, - it draws from the grid",
    "offgrid_power": "+ towards the loads on the backup (EPS) socket",
    "ct_total_power": "+ imported from the grid, - exported (the meter's convention)",
}


class _Parser(argparse.ArgumentParser):
    """Bad input is one line naming the argument and exit code 2, before anything is sent."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message}\n")


def _port(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a UDP port (1-65535)")
    return int(text)


def _host(text: str) -> str:
    """An IPv4 address or a host name; dotted numbers must be a valid address."""
    if (address := normalise_ip(text)) is not None:
        return address
    if not text.strip() or all(part.isdigit() for part in text.strip().split(".")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid IPv4 address or host name")
    return text.strip()


def _address(text: str) -> str:
    if (address := normalise_ip(text)) is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid IPv4 address")
    return address


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


def _whole(low: int, high: int, unit: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole {unit} from {low} to {high}")
        return value

    return parse


def _clock(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time (HH:MM)") from None


def _days(text: str) -> frozenset[int]:
    names = [d.strip().lower()[:3] for d in text.split(",") if d.strip()]
    if not names:
        raise argparse.ArgumentTypeError("name at least one weekday")
    unknown = [n for n in names if n not in WEEKDAYS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown weekday {unknown[0]!r}; use {','.join(WEEKDAYS)}"
        )
    return frozenset(WEEKDAYS.index(n) for n in names)


def build_parser() -> argparse.ArgumentParser:
    """The command line: discover, status and set-mode."""
    parser = _Parser(
        prog="python -m custom_components.vebus_marstek.marstek",
        description="Talk to Marstek Venus batteries over their local Open API (UDP).",
        epilog="signs: " + "; ".join(f"{key}: {meaning}" for key, meaning in SIGNS.items()),
    )
    commands = parser.add_subparsers(dest="command", required=True)

    found = commands.add_parser("discover", help="find batteries by broadcast")
    found.add_argument("--port", type=_port, default=DEFAULT_PORT, help="Open API port")
    found.add_argument("--duration", type=_seconds, default=9.0, help="seconds to broadcast")
    found.add_argument(
        "--target",
        action="append",
        type=_address,
        help="broadcast address (repeatable; default: all)",
    )

    for name, text in (("status", "read everything once"), ("set-mode", "change the mode")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--host", required=True, type=_host, help="the battery's address")
        command.add_argument("--port", type=_port, default=DEFAULT_PORT, help="Open API port")
        command.add_argument("--spacing", type=_seconds, default=1.0, help="seconds between")
        command.add_argument(
            "--timeout", type=_seconds, default=3.0, help="seconds to wait for a reply"
        )
        if name == "set-mode":
            command.add_argument("mode", choices=[m.value for m in OperatingMode])
            command.add_argument(
                "--power",
                type=_whole(-MAX_POWER_W, MAX_POWER_W, "number of watts"),
                help="W, + discharge / - charge (the battery's own limit is checked too)",
            )
            command.add_argument(
                "--duration",
                type=_whole(1, PASSIVE_MAX_DURATION_S, "number of seconds"),
                default=3600,
                help="passive: seconds",
            )
            command.add_argument(
                "--slot", type=_whole(0, MAX_SLOTS - 1, "slot number"), help="manual: slot number"
            )
            command.add_argument("--start", type=_clock, default=time(0, 0), help="manual: HH:MM")
            command.add_argument("--end", type=_clock, default=time(23, 59), help="manual: HH:MM")
            command.add_argument(
                "--days",
                type=_days,
                default=frozenset(range(len(WEEKDAYS))),
                help="manual: e.g. mon,tue,sat",
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tool; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        output = asyncio.run(_run(args))
    except (MarstekError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR
    print(json.dumps(output, indent=2))
    return 0


async def _run(args: argparse.Namespace) -> object:
    if args.command == "discover":
        devices = await discover(
            args.port,
            targets=args.target or broadcast_targets(),
            duration_s=args.duration,
        )
        return [asdict(device) for device in devices]
    pacing = Pacing(
        spacing_s=args.spacing,
        quiet_gap_s=min(args.spacing, 1.0),
        timeout_s=args.timeout,
        write_timeout_s=max(args.timeout, 5.0),
        backoff_s=min(args.timeout, 1.0),
    )
    async with MarstekClient(args.host, args.port, pacing=pacing) as device:
        if args.command == "status":
            return await read_status(device)
        await _set_mode(device, args)
        return {"mode": args.mode, "result": "ok"}


async def read_status(device: MarstekClient) -> dict[str, object]:
    """Everything a person checking their battery wants, with ``null`` for what is missing."""
    identity = await device.read_identity()
    profile = device.profile
    # PV first: on PV models its channel sum is needed to derive the battery power.
    pv = await _optional(device.read_pv_status) if profile and profile.has_pv else None
    es = await _optional(device.read_es_status)
    mode = await _optional(device.read_mode)
    meter = (
        await _optional(device.read_meter_status)
        if device.is_supported(Method.METER_STATUS)
        else None
    )
    mode_meter = mode.meter if mode is not None else None
    if meter is None and profile and profile.has_meter and mode_meter and mode_meter.connected:
        meter = mode_meter  # firmware without EM.GetStatus reports its CT in ES.GetMode
    battery = await _optional(device.read_battery_status)
    pv_power = pv.total_power_w if pv is not None else (es.pv_power_w if es else None)
    soc = next(
        (s for s in (es and es.soc, battery and battery.soc, mode and mode.soc) if s is not None),
        None,
    )
    return {
        "device": identity.device,
        "model": profile.model if profile else None,
        "firmware": identity.firmware,
        "ble_mac": identity.ble_mac,
        "ip": identity.ip,
        "soc": soc,
        "battery_power": es.battery_power_w if es else None,
        "battery_power_derived": es.battery_power_derived if es else None,
        "ongrid_power": es.ongrid_power_w if es else (mode.ongrid_power_w if mode else None),
        "offgrid_power": es.offgrid_power_w if es else (mode.offgrid_power_w if mode else None),
        "pv_power": pv_power,
        "total_grid_input_energy": _kwh(es.total_grid_input_energy_wh if es else None),
        "total_grid_output_energy": _kwh(es.total_grid_output_energy_wh if es else None),
        "total_pv_energy": _kwh(es.total_pv_energy_wh if es else None),
        "total_load_energy": _kwh(es.total_load_energy_wh if es else None),
        "battery_temperature": battery.temperature_c if battery else None,
        "remaining_capacity": _kwh(
            battery.remaining_capacity_wh if battery else (es.remaining_capacity_wh if es else None)
        ),
        "rated_capacity": _kwh(battery.rated_capacity_wh if battery else None),
        "mode": mode.mode.value if mode and mode.mode else None,
        "ct_connected": meter.connected if meter else None,
        "ct_total_power": meter.total_power_w if meter else None,
        "signs": SIGNS,
    }


async def _optional[T](read: Callable[[], Awaitable[T]]) -> T | None:
    """A read that may be missing on this model, or may time out: ``null`` either way."""
    try:
        return await read()
    except MarstekMethodUnsupportedError:
        return None
    except MarstekError as err:
        print(f"warning: {err}", file=sys.stderr)
        return None


async def _set_mode(device: MarstekClient, args: argparse.Namespace) -> None:
    mode = OperatingMode(args.mode)
    if mode is OperatingMode.PASSIVE:
        if args.power is None:
            raise ValueError("passive mode needs --power (W, + discharge / - charge)")
        await device.set_passive(args.power, args.duration)
    elif mode is OperatingMode.MANUAL and args.slot is not None:
        await device.set_manual_slot(
            ManualSlot(
                slot=args.slot,
                start=args.start,
                end=args.end,
                weekdays=args.days,
                power_w=args.power or 0,
            )
        )
    elif mode is OperatingMode.MANUAL:
        await device.select_manual_mode()
    else:
        await device.set_mode(mode)


def _kwh(wh: float | None) -> float | None:
    return None if wh is None else round(wh / 1000, 3)
