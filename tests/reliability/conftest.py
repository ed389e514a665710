"""Fixtures and figures of the reliability tests: soak counters, recorded writes, log checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from unittest.mock import patch

import pytest

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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Per device kind: faults, writes and their outcomes, so the figures in
    CONTRIBUTING.md come from the log."""
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
