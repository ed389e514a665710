"""Counts every example the fuzz tests run and prints the totals at the end of the run."""

from __future__ import annotations

from collections import Counter

import pytest

# Fuzz tests add one per example they ran, under their decoder's name.
EXAMPLES: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per decoder, so the figures in CONTRIBUTING.md come from the log."""
    if not EXAMPLES:
        return
    terminalreporter.section("fuzz examples run")
    for decoder, examples in sorted(EXAMPLES.items()):
        terminalreporter.write_line(f"{decoder}: {examples} examples")
