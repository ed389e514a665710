"""Both config-flow branches over HTTP, as the frontend drives them, including the error paths.

The happy paths ran when the session fixture added the three devices; these are what a user
sees on a typo: the form again with an error, and nothing added.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from e2e.client import HassClient
from e2e.flows import FlowResult, abandon, entries, try_marstek, try_vebus
from e2e.ports import free_tcp_port, free_udp_port

from .conftest import Run, Setup

# A loopback address where no simulated battery listens.
NOBODY = "127.0.0.9"


@pytest.fixture
def open_flows(setup: Setup, run: Run) -> Iterator[list[FlowResult]]:
    """Forms left open by a test are closed afterwards, as the user closing the dialog."""
    forms: list[FlowResult] = []
    yield forms
    for form in forms:
        if form.get("type") == "form":
            run(abandon(setup.client, form["flow_id"]))


def _entry_count(client: HassClient, run: Run) -> int:
    return len(run(entries(client)))


def test_all_three_devices_are_loaded(setup: Setup, run: Run) -> None:
    found = run(entries(setup.client))
    assert sorted(entry["state"] for entry in found) == ["loaded"] * 3
    titles = {entry["title"] for entry in found}
    assert {device.name for device in setup.devices} == titles


def test_marstek_wrong_host_cannot_connect(
    setup: Setup, run: Run, open_flows: list[FlowResult]
) -> None:
    before = _entry_count(setup.client, run)
    result = run(try_marstek(setup.client, NOBODY, setup.lab.devices.marstek_port))
    open_flows.append(result)
    assert (result["type"], result["step_id"]) == ("form", "marstek")
    assert result["errors"] == {"base": "cannot_connect"}
    assert _entry_count(setup.client, run) == before


def test_marstek_wrong_port_cannot_connect(
    setup: Setup, run: Run, open_flows: list[FlowResult]
) -> None:
    host = setup.batteries[0].sim.host
    result = run(try_marstek(setup.client, host, free_udp_port()))
    open_flows.append(result)
    assert (result["type"], result["step_id"]) == ("form", "marstek")
    assert result["errors"] == {"base": "cannot_connect"}


def test_marstek_known_battery_is_not_added_twice(setup: Setup, run: Run) -> None:
    battery = setup.batteries[0].sim
    result = run(try_marstek(setup.client, battery.host, battery.port))
    assert (result["type"], result["reason"]) == ("abort", "already_configured")


def test_vebus_wrong_port_cannot_connect(
    setup: Setup, run: Run, open_flows: list[FlowResult]
) -> None:
    before = _entry_count(setup.client, run)
    result = run(try_vebus(setup.client, f"socket://127.0.0.1:{free_tcp_port()}"))
    open_flows.append(result)
    assert (result["type"], result["step_id"]) == ("form", "vebus_manual")
    assert result["errors"] == {"base": "cannot_connect"}
    assert _entry_count(setup.client, run) == before


def test_vebus_known_unit_is_not_added_twice(setup: Setup, run: Run) -> None:
    result = run(try_vebus(setup.client, setup.lab.devices.vebus_url))
    assert (result["type"], result.get("reason")) == ("abort", "already_configured"), result
