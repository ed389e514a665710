"""Fixtures and figures of the reliability tests: soak counters, recorded writes, log checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from unittest.mock import patch

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.conftest import VEBUS_SERIAL
from tests.registry import our_device

# Soak tests add what they injected and what became of every write, per device kind.
FIGURES: dict[str, Counter[str]] = {}


@pytest.fixture(autouse=True)
def _enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration under test."""


@pytest.fixture(autouse=True)
def _no_background_discovery() -> Generator[None]:
    """The periodic broadcast scan (a minute after start, on port 30000 too) stays off."""
    with patch("custom_components.vebus_marstek.async_start_background_discovery"):
        yield


@pytest.fixture
def marstek_device_id(hass: HomeAssistant, init_integration: MockConfigEntry) -> str:
    """The registry id of the simulated battery."""
    device = our_device(hass, "50:37:cd:7f:1e:c6")
    return device.id


@pytest.fixture
def vebus_device_id(hass: HomeAssistant, init_vebus: MockConfigEntry) -> str:
    """The registry id of the simulated unit."""
    device = our_device(hass, VEBUS_SERIAL)
    return device.id


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Per device kind: faults, writes and their outcomes, so the README's figures come
    from the log."""
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for kind, counts in sorted(FIGURES.items()):
        totals = [name for name in counts if ":" not in name]
        terminalreporter.write_line(
            f"{kind}: " + ", ".join(f"{name} {counts[name]}" for name in totals)
        )
        details = sorted(name for name in counts if name.startswith("fault: "))
        if details:
            line = ", ".join(f"{name.split(': ', 1)[1]} {counts[name]}" for name in details)
            terminalreporter.write_line(f"  faults: {line}")
