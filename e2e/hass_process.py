"""A real Home Assistant process (its own main(), confined to loopback) with a throw-away config."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import signal
import sys
import time

import psutil

REPO = Path(__file__).resolve().parent.parent
INTEGRATION = REPO / "custom_components" / "vebus_marstek"
LOOPBACK_HASS = Path(__file__).with_name("loopback_hass.py")

# What the frontend needs (it asks the recorder on every page) and what a user looks at (history,
# logbook, energy), but no default_config: its zeroconf, SSDP, DHCP and Bluetooth watchers would
# reach for the machine's real network.
CONFIGURATION_YAML = """\
# Written by the e2e package for one run; the directory is thrown away afterwards.
homeassistant:
  name: vebus_marstek demo
  time_zone: Europe/Amsterdam
  country: NL
  currency: EUR
  unit_system: metric
  latitude: 52.37
  longitude: 4.89
  elevation: 0
http:
  server_host: 127.0.0.1
  server_port: {port}
frontend:
config:
recorder:
history:
logbook:
energy:
diagnostics:
repairs:
system_health:
logger:
  default: warning
  logs:
    custom_components.vebus_marstek: info
"""

# Home Assistant saves its storage files on a clean stop; a slow machine may need a while.
STOP_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class ProcessSample:
    """CPU time used so far and resident memory now, of the hass process."""

    monotonic_s: float
    cpu_s: float
    rss_bytes: int


class HassProcess:
    """Starts, samples and stops one Home Assistant process on ``127.0.0.1:port``.

    An asyncio subprocess: waiting for it never blocks the loop, whose simulators must keep
    answering while hass starts and while it says goodbye to the devices.
    """

    def __init__(
        self,
        config_dir: Path,
        port: int,
        *,
        python: str = sys.executable,
        skip_pip: bool = True,
        link_integration: bool = True,
    ) -> None:
        """``python`` runs hass. With ``skip_pip`` False, hass installs whatever requirements
        it misses itself, as for users; with ``link_integration`` False, the caller has put
        the integration under custom_components/ already (as HACS would)."""
        self.config_dir = config_dir
        self.port = port
        self.python = python
        self.skip_pip = skip_pip
        self.link_integration = link_integration
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = config_dir / "home-assistant.log"
        self.console_path = config_dir / "console.log"
        self.started_at: float | None = None
        self._process: asyncio.subprocess.Process | None = None

    def write_config(self) -> None:
        """configuration.yaml and the integration under custom_components/ (a link)."""
        custom = self.config_dir / "custom_components"
        custom.mkdir(parents=True, exist_ok=True)
        link = custom / INTEGRATION.name
        if self.link_integration and not link.exists():
            link.symlink_to(INTEGRATION, target_is_directory=True)
        (self.config_dir / "configuration.yaml").write_text(
            CONFIGURATION_YAML.format(port=self.port), encoding="utf-8"
        )

    @property
    def pid(self) -> int:
        assert self._process is not None, "hass is not running"
        return self._process.pid

    async def start(self) -> None:
        """Start hass in its own session: a Ctrl-C meant for the caller does not reach it."""
        if self._process is not None and self._process.returncode is None:
            raise RuntimeError("hass is already running")
        self.started_at = time.monotonic()
        with self.console_path.open("ab") as console:
            self._process = await asyncio.create_subprocess_exec(
                *_die_with_parent(),
                # Home Assistant's own main(), with its traffic confined to loopback (the
                # installer it may start is a process of its own and reaches the package index).
                self.python,
                str(LOOPBACK_HASS),
                *("--config", str(self.config_dir)),
                # By default requirements come from scripts/setup; nothing is installed at run
                # time.
                *(["--skip-pip"] if self.skip_pip else []),
                "--log-no-color",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=console,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                cwd=self.config_dir,
            )

    def exit_code(self) -> int | None:
        """None while running (or never started)."""
        return None if self._process is None else self._process.returncode

    async def stop(self) -> None:
        """Stop cleanly (SIGTERM, so storage is saved); kill the whole group if it hangs."""
        process, self._process = self._process, None
        if process is None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        # A hang is killed below; tests that need the saved storage see what is missing.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await process.wait()
        # Anything hass started in its session goes with it (and hass itself if it hung).
        _signal_group(process.pid, signal.SIGKILL)
        await process.wait()

    def sample(self) -> ProcessSample:
        """CPU seconds (user + system, with finished children) and RSS of the hass process."""
        process = psutil.Process(self.pid)
        with process.oneshot():
            times = process.cpu_times()
            rss = process.memory_info().rss
        cpu = times.user + times.system + times.children_user + times.children_system
        return ProcessSample(monotonic_s=time.monotonic(), cpu_s=cpu, rss_bytes=rss)

    def log_tail(self, lines: int = 40) -> str:
        """The end of the console output, for error messages."""
        try:
            text = self.console_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _die_with_parent() -> list[str]:
    """A prefix that makes the kernel stop hass when its parent dies (even by SIGKILL)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
