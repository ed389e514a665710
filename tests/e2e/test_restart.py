"""Stopping and starting Home Assistant: same entities, energy totals go on, values come back."""

from __future__ import annotations

from collections.abc import Callable
import time

from e2e.entities import devices, values_of
from e2e.waiting import eventually

from .conftest import ALL_VALUES_S, MARSTEK_CYCLE_S, Run, Setup


def _entity_ids(setup: Setup, run: Run) -> set[str]:
    found = run(devices(setup.client))
    return {entity for device in found.values() for entity in device.entities.values()}


def _energy_totals(setup: Setup, run: Run) -> dict[str, float]:
    """Every total-increasing energy sensor of the integration, by entity id."""
    states = run(setup.client.states())
    return {
        entity_id: float(states[entity_id]["state"])
        for entity_id in setup.entity_ids
        if states[entity_id]["attributes"].get("device_class") == "energy"
        and states[entity_id]["attributes"].get("state_class") == "total_increasing"
    }


def test_restart_keeps_entity_ids_and_energy_totals(
    setup: Setup, run: Run, report_figure: Callable[[str], None]
) -> None:
    ids_before = _entity_ids(setup, run)
    totals_before = _energy_totals(setup, run)
    assert len(totals_before) >= 15  # per battery and the MultiPlus: lifetime and computed

    run(setup.lab.restart_hass())
    started_at = setup.lab.hass.started_at
    assert started_at is not None
    run(eventually(values_of(setup.client, ids_before), ALL_VALUES_S))
    seconds = time.monotonic() - started_at
    report_figure(
        f"hass start -> all {len(ids_before)} entities of 3 devices with values: {seconds:.1f} s "
        "(Marstek fast tier every 10 s, slow tier 60 s; "
        "VE.Bus powers every 1 s, the rest every 2 s)"
    )

    assert _entity_ids(setup, run) == ids_before
    totals_after = _energy_totals(setup, run)
    lower = {
        entity_id: (before, totals_after[entity_id])
        for entity_id, before in totals_before.items()
        if totals_after[entity_id] < before
    }
    assert not lower, f"energy totals went down across the restart: {lower}"
    # The batteries' own counters went on while hass was down; nothing of that is lost.
    for battery in setup.batteries:
        run(eventually(battery.shows_truth(setup.client), MARSTEK_CYCLE_S))
