"""Three simulated devices in a real, freshly onboarded Home Assistant, until Ctrl-C.

    python -m e2e.demo [--hass-port 8123] [--marstek-port 30000] [--keep-config]

Run through scripts/demo, which first makes sure the virtual environment exists.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Sequence
import contextlib
from pathlib import Path
import shutil
import signal
import sys
import tempfile
from typing import Any

from .client import HassApiError
from .flows import DOMAIN, FlowFailedError
from .lab import Lab


def _say(text: str) -> None:
    """A line for the person at the terminal (not a log record: this is the demo's output)."""
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hass-port", type=int, help="Home Assistant's web port (default 8123 when free)"
    )
    parser.add_argument(
        "--marstek-port", type=int, help="the batteries' Open API port (default 30000 when free)"
    )
    parser.add_argument(
        "--keep-config", action="store_true", help="keep the configuration directory at exit"
    )
    return parser.parse_args(argv)


class _StoppedError(Exception):
    """A stop signal came before the work was done."""


async def _unless_stopped[T](work: Awaitable[T], stop: asyncio.Event) -> T:
    """``work``'s result; cancels it and raises _StoppedError when a stop signal comes first."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise _StoppedError
    return task.result()


def _where_to_look(lab: Lab, entries: list[dict[str, Any]]) -> str:
    devices = lab.devices
    links = [f"{battery.host}:{devices.marstek_port}" for battery in devices.batteries]
    links.append(devices.vebus_url)
    rows = "\n".join(
        f"  {entry['title']:<24} {link}" for entry, link in zip(entries, links, strict=True)
    )
    url = lab.hass.url
    return f"""
Home Assistant is running with three simulated devices in a simulated house.

  Open:       {url}
  User name:  {lab.user.username}
  Password:   {lab.user.password}

Devices (Settings > Devices & services > VE.Bus & Marstek Venus (local)):
{rows}

The site "Home battery" drives all three in zero export from the house's grid meter
(sensor.demo_grid_power): every five minutes the house imports, boils a kettle, then has
more sun than it uses; watch the site's grid power stay at or above 0 W, and the Energy
dashboard ({url}/energy).

  Integration page: {url}/config/integrations/integration/{DOMAIN}
  Home Assistant's log: {lab.hass.log_path}

Press Ctrl-C to stop Home Assistant and the simulators.
"""


async def _run(args: argparse.Namespace, config_dir: Path) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    lab = await Lab.create(config_dir, marstek_port=args.marstek_port, hass_port=args.hass_port)
    try:
        await lab.devices.start()
        _say(
            f"Simulators: two Marstek batteries on UDP port {lab.devices.marstek_port}, "
            f"a MultiPlus at {lab.devices.vebus_url}\n"
            f"Starting Home Assistant on {lab.hass.url} (configuration in {config_dir}) ..."
        )
        await _unless_stopped(lab.start_hass(), stop)
        entries = await _unless_stopped(lab.set_up(), stop)
        house = lab.house()
        meter = asyncio.create_task(house.run(lab.client, stop))
        await _unless_stopped(lab.add_site(entries), stop)
        _say(_where_to_look(lab, entries))
        await stop.wait()
        await meter
    except _StoppedError:
        pass
    except (OSError, RuntimeError, TimeoutError, HassApiError, FlowFailedError) as err:
        _say(f"The demo could not start: {err}\nHome Assistant's log: {lab.hass.log_path}")
        return 1
    finally:
        _say("Stopping ...")
        await lab.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    config_dir = Path(tempfile.mkdtemp(prefix="vebus_marstek-demo-"))
    exit_code = 1
    try:
        exit_code = asyncio.run(_run(args, config_dir))
    finally:
        # A failed start keeps its log for reading.
        if args.keep_config or exit_code != 0:
            _say(f"Configuration kept in {config_dir}")
        else:
            shutil.rmtree(config_dir, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
