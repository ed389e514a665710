"""How much the hass process uses with three devices at the default polling: a benchmark figure.

Five minutes in CI (CI=true); 30 s locally unless E2E_SOAK_SECONDS asks for more. Nothing is
asserted about the numbers themselves: they are printed, and CONTRIBUTING.md quotes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import os
import time

import pytest

from custom_components.vebus_marstek.const import (
    DEFAULT_FAST_INTERVAL,
    DEFAULT_MEDIUM_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_REQUEST_SPACING,
    DEFAULT_SLOW_INTERVAL,
    DEFAULT_VEBUS_FAST_INTERVAL,
)
from e2e.entities import values_of
from e2e.flows import Options, all_loaded, set_options
from e2e.hass_process import ProcessSample
from e2e.waiting import eventually

from .conftest import ALL_VALUES_S, MARSTEK_OPTIONS, VEBUS_OPTIONS, Run, Setup

SOAK_S = float(
    os.environ.get("E2E_SOAK_SECONDS") or (300 if os.environ.get("CI") == "true" else 30)
)
SAMPLE_EVERY_S = 5.0
MIB = 1024 * 1024

DEFAULT_MARSTEK_OPTIONS = {
    "fast_interval": DEFAULT_FAST_INTERVAL,
    "medium_interval": DEFAULT_MEDIUM_INTERVAL,
    "slow_interval": DEFAULT_SLOW_INTERVAL,
    "request_spacing": DEFAULT_REQUEST_SPACING,
}
DEFAULT_VEBUS_OPTIONS = {
    **VEBUS_OPTIONS,
    "fast_interval": DEFAULT_VEBUS_FAST_INTERVAL,
    "poll_interval": DEFAULT_POLL_INTERVAL,
}


def _set_polling(setup: Setup, run: Run, marstek: Options, vebus: Options) -> None:
    """Every entry reloads with its new options."""
    for battery in setup.batteries:
        run(set_options(setup.client, battery.device.entry_id, marstek))
    run(set_options(setup.client, setup.multiplus_device.entry_id, vebus))
    run(eventually(all_loaded(setup.client), ALL_VALUES_S))


@pytest.fixture
def default_polling(setup: Setup, run: Run) -> Iterator[None]:
    """What a user runs: the default intervals; the tests' short ones again afterwards."""
    _set_polling(setup, run, DEFAULT_MARSTEK_OPTIONS, DEFAULT_VEBUS_OPTIONS)
    yield
    _set_polling(setup, run, MARSTEK_OPTIONS, VEBUS_OPTIONS)
    run(eventually(values_of(setup.client, setup.entity_ids), ALL_VALUES_S))


@pytest.mark.timeout(SOAK_S + 300)
@pytest.mark.usefixtures("default_polling")
def test_soak_cpu_and_memory(setup: Setup, report_figure: Callable[[str], None]) -> None:
    hass = setup.lab.hass
    samples = [hass.sample()]
    deadline = samples[0].monotonic_s + SOAK_S
    while time.monotonic() < deadline:
        time.sleep(min(SAMPLE_EVERY_S, max(deadline - time.monotonic(), 0.0)))
        samples.append(hass.sample())
        assert hass.exit_code() is None, "hass stopped during the soak"
    report_figure(_summary(samples))


def _summary(samples: list[ProcessSample]) -> str:
    first, last = samples[0], samples[-1]
    minutes = (last.monotonic_s - first.monotonic_s) / 60
    cpu_per_minute = (last.cpu_s - first.cpu_s) / minutes
    rss = [sample.rss_bytes / MIB for sample in samples]
    return (
        f"hass soak, {minutes * 60:.0f} s with 3 devices at default polling: "
        f"{cpu_per_minute:.2f} CPU s/min ({cpu_per_minute / 60:.1%} of one core), "
        f"RSS {rss[-1]:.0f} MiB at the end (min {min(rss):.0f}, max {max(rss):.0f})"
    )
