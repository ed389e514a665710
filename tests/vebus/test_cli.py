"""The VE.Bus command line tool, as someone checking their wiring would run it."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from custom_components.vebus_marstek.vebus.cli import build_parser, main
from tests.cli import usage_error

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

STATUS_KEYS = {
    "mk_version", "firmware", "ac_input_voltage", "ac_input_current", "ac_input_frequency",
    "ac_input_power", "ac_output_voltage", "ac_output_current", "ac_output_frequency",
    "ac_output_power", "battery_voltage", "battery_current", "battery_power", "soc", "state",
    "charge_state", "leds", "alarms", "vebus_error", "input_current_limit",
    "input_current_limit_min", "input_current_limit_max", "switch_mode", "ess_setpoint",
}  # fmt: skip
LED_KEYS = {
    "mains", "absorption", "bulk", "float", "inverter", "overload", "low_battery", "temperature"
}  # fmt: skip


async def _cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_status(start_vebus, capsys) -> None:
    sim, url = await start_vebus()
    sim.set_ground_truth(ac_load_w=900.0, soc=0.42)
    code = await _cli("status", "--device", url)
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report.keys() >= STATUS_KEYS
    assert report["leds"].keys() == LED_KEYS
    truth = sim.truth()
    assert report["soc"] == pytest.approx(42, abs=0.5)
    assert report["state"] == truth.state
    assert report["switch_mode"] == "on"
    assert report["battery_current"] == pytest.approx(truth.battery_current, abs=0.1)
    assert report["ac_output_power"] == pytest.approx(truth.ac_output_power, abs=2)


async def test_status_without_ess_or_battery_monitor(start_vebus, capsys) -> None:
    _, url = await start_vebus(model="multiplus-12-500", ess=False, battery_monitor=False)
    assert await _cli("status", "--device", url) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ess_setpoint"] is None
    assert report["soc"] is None


async def test_monitor_prints_one_line_per_refresh(start_vebus, capsys) -> None:
    _, url = await start_vebus()
    code = await _cli("monitor", "--device", url, "--count", "2", "--interval", "0")
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert len(lines) == 2
    for line in lines:
        report = json.loads(line)
        assert report["refresh_seconds"] > 0
        assert report.keys() >= STATUS_KEYS


async def test_monitor_reads_powers_each_line_and_the_rest_when_due(start_vebus, capsys) -> None:
    """Each line names what it refreshed; slow values are carried over in between."""
    _, url = await start_vebus()
    argv = ("monitor", "--device", url, "--count", "3", "--interval", "0")
    assert await _cli(*argv, "--slow-interval", "3600") == 0
    first, second, third = map(json.loads, capsys.readouterr().out.strip().splitlines())
    assert {"dc", "phase1", "ram:input_power", "input_config", "leds"} <= set(first["refreshed"])
    assert (
        second["refreshed"]
        == third["refreshed"]
        == [
            "dc",
            "phase1",
            "ram:input_power",
            "ram:inverter_power",
            "ram:output_power",
        ]
    )
    assert second["switch_mode"] == first["switch_mode"] == "on"  # carried over
    assert third["slow_every_seconds"] == 3600  # as asked: the budget leaves room for it
    assert second["refresh_seconds"] < first["refresh_seconds"]
    assert first["signs"]["battery_power"].startswith("+ discharging")
    assert first["signs"]["battery_current"].startswith("+ charging")
    assert "signs" not in second


async def test_status_says_what_every_sign_means(start_vebus, capsys) -> None:
    """Every signed key of the report has its meaning next to it."""
    sim, url = await start_vebus()
    sim.set_ground_truth(grid_available=False, ac_load_w=800)
    assert await _cli("status", "--device", url) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["battery_power"] > 0 > report["battery_current"]  # discharging
    signed = {
        "ac_input_current", "ac_input_power", "ac_output_current", "ac_output_power",
        "battery_current", "battery_power", "ess_setpoint",
    }  # fmt: skip
    assert report["signs"].keys() == signed
    help_text = build_parser().format_help()
    assert "battery_current: + charging" in help_text
    assert "battery_power: + discharging" in help_text


async def test_set_mode_and_current_limit(start_vebus, capsys) -> None:
    sim, url = await start_vebus()
    assert await _cli("set-mode", "charger_only", "--device", url, "--current-limit", "12") == 0
    assert (sim.truth().switch_mode, sim.truth().input_current_limit) == ("charger_only", 12.0)
    assert await _cli("set-current-limit", "20", "--device", url) == 0
    assert (sim.truth().switch_mode, sim.truth().input_current_limit) == ("charger_only", 20.0)
    capsys.readouterr()
    assert await _cli("set-current-limit", "99", "--device", url) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: input current limit must be")
    assert err.count("\n") == 1
    assert not sim.dangerous


async def test_a_port_that_does_not_open_is_one_clear_line(capsys) -> None:
    assert await _cli("status", "--device", "/dev/no-such-port") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot open /dev/no-such-port")
    assert "Traceback" not in err


async def test_ports_lists_serial_ports(capsys) -> None:
    assert await _cli("ports") == 0
    ports = json.loads(capsys.readouterr().out)
    assert isinstance(ports, list)
    assert all({"device", "path", "by_id", "mk3"} <= port.keys() for port in ports)


async def test_runs_as_a_module(start_vebus) -> None:
    _, url = await start_vebus()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "custom_components.vebus_marstek.vebus", "status", "--device", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert json.loads(out)["mk_version"] == 1170212


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["status", "--device", "COM3"], "--device"),
        (["status", "--device", "ftp://192.0.2.1:21"], "--device"),
        (["status", "--device", "socket://192.0.2.1"], "--device"),
        (["status", "--device", "socket://192.0.2.1:70000"], "--device"),
        (["status", "--device", "rfc2217://:3333"], "--device"),
        (["status", "--device", "/dev/ttyUSB0", "--address", "32"], "--address"),
        (["status", "--device", "/dev/ttyUSB0", "--address", "-1"], "--address"),
        (["monitor", "--device", "/dev/ttyUSB0", "--count", "-1"], "--count"),
        (["monitor", "--device", "/dev/ttyUSB0", "--count", "2.5"], "--count"),
        (["monitor", "--device", "/dev/ttyUSB0", "--interval", "nan"], "--interval"),
        (["monitor", "--device", "/dev/ttyUSB0", "--slow-interval", "-5"], "--slow-interval"),
        (["set-mode", "on", "--device", "/dev/ttyUSB0", "--current-limit", "0"], "--current-limit"),
        (["set-current-limit", "lots", "--device", "/dev/ttyUSB0"], "amps"),
        (["set-current-limit", "-16", "--device", "/dev/ttyUSB0"], "amps"),
    ],
)
def test_bad_arguments_are_one_line_naming_the_argument(
    argv: list[str], named: str, capsys
) -> None:
    """Nothing is opened: the tool stops before the port, without a traceback."""
    assert usage_error(main, argv, capsys).startswith(f"error: argument {named}: ")


def test_every_kind_of_port_url_is_accepted() -> None:
    parser = build_parser()
    for device in (
        "/dev/serial/by-id/usb-VictronEnergy_MK3-USB_Interface_HQ1234-if00-port0",
        "socket://192.0.2.20:3333",
        "tcp://ser2net.local:3333",
        "rfc2217://192.0.2.20:4000",
        "esphome://proxy.local/?port_name=mk3",
    ):
        assert parser.parse_args(["status", "--device", device]).device == device
