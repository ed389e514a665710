"""Serial ports are offered by their stable /dev/serial/by-id path."""

from __future__ import annotations

import os
from pathlib import Path

from custom_components.vebus_marstek.vebus.ports import SerialPort, by_id_path, list_ports


def _port(**overrides: object) -> SerialPort:
    values: dict[str, object] = {
        "device": "/dev/ttyUSB0",
        "by_id": None,
        "vid": 0x0403,
        "pid": 0x6015,
        "serial_number": "HQ1234ABCD",
        "manufacturer": "Victron Energy BV",
        "product": "MK3-USB Interface",
    }
    values.update(overrides)
    return SerialPort(**values)  # type: ignore[arg-type]


def test_by_id_link_is_found(tmp_path: Path) -> None:
    device = tmp_path / "ttyUSB7"
    device.touch()
    link = tmp_path / "by-id" / "usb-VictronEnergy_MK3-USB_Interface_HQ1234ABCD-if00-port0"
    link.parent.mkdir()
    os.symlink(device, link)
    assert by_id_path(str(device), link.parent) == str(link)
    assert by_id_path(str(tmp_path / "other"), link.parent) is None
    assert by_id_path(str(device), tmp_path / "missing") is None


def test_mk3_is_recognised_and_labelled() -> None:
    mk3 = _port(by_id="/dev/serial/by-id/usb-VictronEnergy_MK3")
    assert mk3.looks_like_mk3
    assert mk3.path == "/dev/serial/by-id/usb-VictronEnergy_MK3"
    assert mk3.label == (
        "MK3-USB Interface - Victron Energy BV (HQ1234ABCD): "
        "/dev/serial/by-id/usb-VictronEnergy_MK3"
    )
    # The same FTDI ids on a Zigbee stick are not an MK3.
    assert not _port(manufacturer="dresden elektronik", product="ConBee II").looks_like_mk3
    assert not _port(vid=0x10C4).looks_like_mk3
    bare = _port(manufacturer=None, product=None, serial_number=None, vid=None, pid=None)
    assert bare.label == "Serial port: /dev/ttyUSB0"


def test_list_ports_runs_on_this_machine() -> None:
    ports = list_ports()
    assert all(port.path for port in ports)
    assert ports == sorted(ports, key=lambda port: (not port.looks_like_mk3, port.path))
