"""The integration installed as a user installs it, on the newest Home Assistant release.

The Python environment (``.venv-user``, made by ``scripts/setup user``) has Home Assistant and
nothing of this integration's requirements. The integration is copied in from an archive of the
repository the way HACS copies it, and ``hass`` runs without ``--skip-pip``: Home Assistant
resolves and installs ``manifest.json``'s requirements itself, under its own constraints. Then
the demo's two Marstek batteries and its VE.Bus unit (the simulators) are added through the
config flow and their values must appear, and Home Assistant must have logged no warning about
the integration.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import subprocess

from packaging.requirements import Requirement
import pytest
import pytest_socket

from e2e.entities import devices, values_of
from e2e.hacs_install import install_like_hacs
from e2e.hass_process import HassProcess
from e2e.lab import Lab
from e2e.loop_thread import LoopThread
from e2e.ports import free_udp_port
from e2e.waiting import eventually
from tests.e2e.hass_log import level, records
from tools.ha_releases import PIN, manifest_requirements, normalise

REPO = Path(__file__).resolve().parents[2]
USER_PYTHON = REPO / ".venv-user" / "bin" / "python"
# Home Assistant installs the requirements of everything it loads (the frontend among them)
# before it serves; a first start on a fresh machine downloads them.
FIRST_START_S = 600.0
VALUES_S = 180.0
# The integration by name or path; not the cache directory scripts/setup keeps Python in
# (~/.cache/vebus_marstek), which appears in tracebacks of anything.
ABOUT_US = re.compile(r"custom_components[./]vebus_marstek|(?<![\w/.-])vebus_marstek\b")
# Said of every custom integration on every start; nothing an integration can change.
NOT_TESTED_BY_HOME_ASSISTANT = "which has not been tested by Home Assistant"

pytestmark = [pytest.mark.enable_socket, pytest.mark.timeout(int(FIRST_START_S + 600))]


def _user_python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(USER_PYTHON), *args], check=False, capture_output=True, text=True, timeout=300
    )


def _installed_version(name: str) -> str | None:
    result = _user_python(
        "-c", "import sys, importlib.metadata as m; print(m.version(sys.argv[1]))", name
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _release_pin(name: str) -> str | None:
    """The version the user environment's Home Assistant pins in package_constraints.txt."""
    result = _user_python(
        "-c",
        "import homeassistant, pathlib; print((pathlib.Path(homeassistant.__file__).parent"
        " / 'package_constraints.txt').read_text())",
    )
    for line in result.stdout.splitlines():
        if (match := PIN.match(line)) and normalise(match[1]) == normalise(name):
            return match[2]
    return None


def _requirement_names() -> list[str]:
    return [Requirement(text).name for text in manifest_requirements()]


def _warnings_about_us(log: str) -> list[str]:
    """Warnings and errors naming the integration or one of its requirements (as written in
    manifest.json: Home Assistant's installer names the requirement, not who asked for it)."""
    requirements = manifest_requirements()
    return [
        record
        for record in records(log)
        if level(record) in {"WARNING", "ERROR", "CRITICAL"}
        and (ABOUT_US.search(record) or any(text in record for text in requirements))
        and NOT_TESTED_BY_HOME_ASSISTANT not in record
    ]


@pytest.fixture(name="user_environment")
def user_environment_fixture() -> None:
    """Home Assistant alone: none of our requirements installed before hass starts."""
    if not USER_PYTHON.exists():
        if os.environ.get("CI"):
            pytest.fail("no .venv-user: scripts/setup user makes it")
        pytest.skip("no .venv-user (scripts/setup user makes it)")
    names = _requirement_names()
    # A previous run's hass installed them; a user's first install has none.
    _user_python("-m", "pip", "uninstall", "--quiet", "--yes", *names)
    assert all(_installed_version(name) is None for name in names)


def test_home_assistant_installs_the_requirements_and_the_devices_work(
    user_environment: None, tmp_path: Path
) -> None:
    pytest_socket.enable_socket()
    config_dir = tmp_path / "config"
    installed = install_like_hacs(config_dir)
    assert (installed / "manifest.json").is_file()
    assert not installed.is_symlink()

    def user_hass(directory: Path, port: int) -> HassProcess:
        return HassProcess(
            directory, port, python=str(USER_PYTHON), skip_pip=False, link_integration=False
        )

    loop = LoopThread()
    loop.start()
    lab = loop.run(Lab.create(config_dir, marstek_port=free_udp_port(), hass=user_hass))
    try:

        async def scenario() -> None:
            await lab.devices.start()
            await lab.start_hass(timeout_s=FIRST_START_S)
            entries = await lab.set_up(timeout_s=FIRST_START_S)
            found = await devices(lab.client)
            entity_ids = {
                entity for entry in entries for entity in found[entry["entry_id"]].entities.values()
            }
            assert entity_ids
            await eventually(values_of(lab.client, entity_ids), VALUES_S)

        loop.run(scenario())
    except Exception as err:
        failure: Exception | None = err
    else:
        failure = None
    finally:
        loop.run(lab.close())
        loop.stop()

    # Read once hass has stopped: its log is complete then.
    log = lab.hass.log_path.read_text(encoding="utf-8", errors="replace")
    warnings = _warnings_about_us(log)
    said = "\n".join(warnings) or "(nothing about the integration)"
    if failure is not None:
        raise AssertionError(f"{failure!r}; Home Assistant logged:\n{said}") from failure
    assert not warnings, f"Home Assistant warned about the integration:\n{said}"

    for name in _requirement_names():
        version = _installed_version(name)
        assert version is not None, f"Home Assistant did not install {name}"
        pinned = _release_pin(name)
        if pinned is not None:
            assert version == pinned, f"{name} {version}, the release pins {pinned}"
