"""The command line tool people use to check their battery before installing."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from custom_components.vebus_marstek.marstek.cli import build_parser, main
from simulators.marstek import Mode
from tests.cli import usage_error

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

STATUS_KEYS = {
    "device", "firmware", "ble_mac", "soc", "battery_power", "ongrid_power", "offgrid_power",
    "pv_power", "total_grid_input_energy", "total_grid_output_energy", "total_pv_energy",
    "battery_temperature", "remaining_capacity", "rated_capacity", "mode", "ct_connected",
    "ct_total_power",
}  # fmt: skip


async def _cli(*argv: str) -> int:
    """Run the tool as a user would, in its own thread and event loop."""
    return await asyncio.to_thread(main, list(argv))


async def test_status_prints_one_json_object(start_simulator, api_port, capsys) -> None:
    sim = await start_simulator("venus-a")
    sim.set_ground_truth(soc=71.0, pv_w=[500, 0, 0, 0], house_load_w=200)
    sim.state.grid_input_wh = 12_345
    code = await _cli("status", "--host", "127.0.0.2", "--port", str(api_port), "--spacing", "0")
    out = capsys.readouterr().out
    status = json.loads(out)
    assert code == 0
    assert status.keys() >= STATUS_KEYS
    truth = sim.truth()
    assert status["soc"] == 71
    assert status["pv_power"] == pytest.approx(500)
    # Positive = discharging, as the Energy dashboard expects; here the PV charges it.
    assert status["battery_power"] == pytest.approx(-truth.battery_power_w, abs=1)
    assert status["battery_power"] < 0
    assert status["total_grid_input_energy"] == pytest.approx(12.345)  # kWh
    assert status["rated_capacity"] == pytest.approx(2.08)
    assert status["mode"] == "auto"
    assert status["ct_connected"] is True
    # Every signed value says what its sign means, next to it.
    signed = {"battery_power", "ongrid_power", "offgrid_power", "ct_total_power"}
    assert status["signs"].keys() == signed
    assert status["signs"]["battery_power"].startswith("+ discharging")
    assert "battery_power: + discharging" in build_parser().format_help()


async def test_status_takes_the_ct_from_es_getmode_without_em(
    start_simulator, api_port, capsys
) -> None:
    """A Venus E 3.0 whose firmware has no EM.GetStatus still shows its CT, as in the app."""
    await start_simulator("venus-e3-148-ct-in-mode")
    argv = ("status", "--host", "127.0.0.2", "--port", str(api_port), "--spacing", "0")
    assert await _cli(*argv) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["ct_connected"] is True
    assert status["ct_total_power"] is not None


async def test_status_has_null_for_what_a_model_lacks(start_simulator, api_port, capsys) -> None:
    await start_simulator("venus-c-153")  # no meter on this firmware
    code = await _cli("status", "--host", "127.0.0.2", "--port", str(api_port), "--spacing", "0")
    status = json.loads(capsys.readouterr().out)
    assert code == 0
    assert status["ct_connected"] is None
    assert status["ct_total_power"] is None


async def test_status_warns_about_a_read_that_timed_out(start_simulator, api_port, capsys) -> None:
    sim = await start_simulator("venus-e3")
    sim.faults.disable_after_requests = 2  # answers GetDevice and ES.GetStatus, then nothing
    code = await _cli(
        "status", "--host", "127.0.0.2", "--port", str(api_port), "--spacing", "0",
        "--timeout", "0.1",
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out)["mode"] is None
    assert "warning: No reply" in captured.err


async def test_unreachable_battery_is_one_clear_line(api_port, capsys) -> None:
    code = await _cli(
        "status", "--host", "127.0.0.9", "--port", str(api_port), "--timeout", "0.05",
        "--spacing", "0",
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(
        f"error: No reply from 127.0.0.9:{api_port} to Marstek.GetDevice"
    )
    assert "Traceback" not in captured.err


async def test_port_in_use_is_reported(api_port, capsys) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other_program:
        other_program.bind(("0.0.0.0", api_port))
        code = await _cli("status", "--host", "127.0.0.2", "--port", str(api_port))
    assert code == 1
    assert f"UDP port {api_port} is already in use" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "mode"),
    [
        (["auto"], Mode.AUTO),
        (["ai"], Mode.AI),
        (["ups"], Mode.UPS),
        (["manual"], Mode.MANUAL),
        (["manual", "--slot", "2", "--start", "07:00", "--end", "08:30", "--days", "mon,sat",
          "--power", "-600"], Mode.MANUAL),
        (["passive", "--power", "-800", "--duration", "120"], Mode.PASSIVE),
    ],
)  # fmt: skip
async def test_set_mode(start_simulator, api_port, capsys, args, mode) -> None:
    sim = await start_simulator("venus-e3")
    code = await _cli(
        "set-mode", *args, "--host", "127.0.0.2", "--port", str(api_port), "--spacing", "0"
    )
    assert code == 0, capsys.readouterr().err
    assert sim.state.mode is mode
    if "--slot" in args:
        slot = sim.state.manual_slots[2]
        assert (slot.start_minute, slot.end_minute, slot.week_set) == (420, 510, 0b100001)
        assert slot.power_w == -600


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["passive"], "needs --power"),
        (["passive", "--power", "9000"], "power must be within"),
    ],
)
async def test_set_mode_rejects_bad_input_and_sends_nothing(
    start_simulator, api_port, capsys, args, message
) -> None:
    sim = await start_simulator("venus-e3")
    code = await _cli("set-mode", *args, "--host", "127.0.0.2", "--port", str(api_port))
    assert code == 1
    assert message in capsys.readouterr().err
    assert not sim.requests_for("ES.SetMode")


async def test_discover_command(start_simulator, api_port, capsys) -> None:
    sim = await start_simulator("venus-d")
    code = await _cli(
        "discover", "--port", str(api_port), "--target", "127.0.0.2", "--duration", "0.1"
    )
    found = json.loads(capsys.readouterr().out)
    assert code == 0
    assert found == [
        {"ip": "127.0.0.2", "port": api_port, "ble_mac": sim.state.ble_mac, "device": "VenusD",
         "firmware": 151, "wifi_mac": sim.state.wifi_mac}
    ]  # fmt: skip


async def test_runs_as_a_module(start_simulator, api_port) -> None:
    """`python -m custom_components.vebus_marstek.marstek` works as docs/command-line.md says."""
    await start_simulator("venus-e3")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "custom_components.vebus_marstek.marstek", "status",
        "--host", "127.0.0.2", "--port", str(api_port), "--spacing", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert json.loads(out)["device"] == "VenusE 3.0"


def test_usage_errors_exit_with_two(capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["status"])
    assert raised.value.code == 2
    assert "--host" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["status", "--host", "127.0.0.5", "--port", "70000"], "--port"),
        (["status", "--host", "127.0.0.5", "--port", "port"], "--port"),
        (["status", "--host", "999.1.1.1"], "--host"),
        (["status", "--host", ""], "--host"),
        (["status", "--host", "127.0.0.2", "--spacing", "-1"], "--spacing"),
        (["status", "--host", "127.0.0.2", "--timeout", "inf"], "--timeout"),
        (["discover", "--port", "0"], "--port"),
        (["discover", "--duration", "soon"], "--duration"),
        (["discover", "--target", "255.255.255.256"], "--target"),
        (["set-mode", "passive", "--host", "127.0.0.2", "--power", "800.5"], "--power"),
        (["set-mode", "passive", "--host", "127.0.0.2", "--power", "99999"], "--power"),
        (["set-mode", "passive", "--host", "127.0.0.2", "--duration", "0"], "--duration"),
        (["set-mode", "passive", "--host", "127.0.0.2", "--duration", "86401"], "--duration"),
        (["set-mode", "manual", "--host", "127.0.0.2", "--slot", "10"], "--slot"),
        (["set-mode", "manual", "--host", "127.0.0.2", "--start", "25:00"], "--start"),
        (["set-mode", "manual", "--host", "127.0.0.2", "--end", "noon"], "--end"),
        (["set-mode", "manual", "--host", "127.0.0.2", "--days", "mon,funday"], "--days"),
        (["set-mode", "manual", "--host", "127.0.0.2", "--days", ","], "--days"),
    ],
)
def test_bad_arguments_are_one_line_naming_the_argument(
    argv: list[str], named: str, capsys
) -> None:
    """Nothing is sent: the tool stops before it opens a socket, without a traceback."""
    assert usage_error(main, argv, capsys).startswith(f"error: argument {named}: ")
