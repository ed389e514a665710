"""A device that drops off the network: its entities go unavailable, then come back."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from e2e.entities import Device, values_of
from e2e.waiting import Check, eventually

from .conftest import ALL_VALUES_S, Run, Setup

# Marstek entities go unavailable after three cycles without any answer. With the default
# pacing (3 attempts of 3 s per request, 1 s back-off) the first silent cycle, which asks
# everything due, takes about a minute; the next two ask one question each. A VE.Bus unit
# goes after two timed-out polls, or at once when its port disappears.
UNAVAILABLE_S = 180.0


def _all_unavailable(setup: Setup, device: Device) -> Check:
    async def check() -> str | None:
        states = await setup.client.states()
        available = sorted(
            entity_id
            for entity_id in device.entities.values()
            if states[entity_id]["state"] != "unavailable"
        )
        return f"still available: {available}" if available else None

    return check


@pytest.fixture
def devices_back(setup: Setup, run: Run) -> Iterator[None]:
    """Whatever happens in the test, the simulators are listening again afterwards."""
    yield
    run(setup.lab.devices.start())


@pytest.mark.hass_errors_expected
@pytest.mark.usefixtures("devices_back")
def test_unreachable_devices_go_unavailable_and_come_back(
    setup: Setup, run: Run, report_figure: Callable[[str], None]
) -> None:
    battery, other = setup.batteries[1], setup.batteries[0]
    run(battery.sim.stop())
    run(setup.lab.devices.stop_multiplus())

    vebus_s = run(eventually(_all_unavailable(setup, setup.multiplus_device), UNAVAILABLE_S))
    marstek_s = run(eventually(_all_unavailable(setup, battery.device), UNAVAILABLE_S))
    # The other battery on the same API port is not affected.
    run(eventually(values_of(setup.client, set(other.device.entities.values())), 0))

    run(setup.lab.devices.start())
    back_s = run(eventually(values_of(setup.client, setup.entity_ids), ALL_VALUES_S))
    report_figure(
        f"device gone -> entities unavailable: VE.Bus {vebus_s:.0f} s, Marstek "
        f"{vebus_s + marstek_s:.0f} s (fast tier 10 s); back -> all values: {back_s:.0f} s"
    )
