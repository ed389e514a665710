"""Entity states over the REST API against the simulators' ground truth."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from e2e.entities import values_of
from e2e.lab import HOUSE_LOAD_W, VEBUS_AC_LOAD_W
from e2e.loop_thread import LoopThread
from e2e.waiting import eventually

from .conftest import MARSTEK_CYCLE_S, VEBUS_CYCLE_S, Run, Setup
from .expect import Expected, matching, vebus_expectations


def test_every_entity_has_a_value(setup: Setup, run: Run) -> None:
    """Write-only settings aside (unknown until first written), nothing is unknown."""
    assert len(setup.devices) == 3
    run(eventually(values_of(setup.client, setup.entity_ids), 0))


@pytest.fixture
def busier_house(setup: Setup, loop: LoopThread) -> Iterator[None]:
    """More load on the CTs and on the MultiPlus's output, back to normal afterwards."""

    def set_loads(house_w: float, ac_w: float) -> None:
        for battery in setup.batteries:
            battery.sim.set_ground_truth(house_load_w=house_w)
        setup.multiplus.set_ground_truth(ac_load_w=ac_w)

    loop.call(lambda: set_loads(HOUSE_LOAD_W + 350, VEBUS_AC_LOAD_W + 600))
    yield
    loop.call(lambda: set_loads(HOUSE_LOAD_W, VEBUS_AC_LOAD_W))


@pytest.mark.usefixtures("busier_house")
def test_marstek_values_follow_the_batteries_within_one_cycle(setup: Setup, run: Run) -> None:
    for battery in setup.batteries:
        run(eventually(battery.shows_truth(setup.client), MARSTEK_CYCLE_S))


@pytest.mark.usefixtures("busier_house")
def test_vebus_values_follow_the_multiplus_within_one_cycle(setup: Setup, run: Run) -> None:
    device, multiplus = setup.multiplus_device, setup.multiplus
    check = matching(setup.client, lambda: vebus_expectations(device, multiplus.truth()))
    run(eventually(check, VEBUS_CYCLE_S))


def test_remaining_capacity_is_the_stored_energy(setup: Setup, run: Run) -> None:
    def expected() -> list[Expected]:
        return [
            Expected(
                battery.device.entity("remaining_capacity"),
                battery.sim.truth().remaining_wh / 1000,
                0.02,
            )
            for battery in setup.batteries
        ]

    run(eventually(matching(setup.client, expected), MARSTEK_CYCLE_S))
