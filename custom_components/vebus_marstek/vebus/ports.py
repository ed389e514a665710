"""Serial ports on this machine, with the stable /dev/serial/by-id path of each.

``/dev/ttyUSB0`` can change between boots; the by-id link names the adapter itself.
These functions block (they read /dev and sysfs): call them in an executor.
"""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path

from serialx import list_serial_ports

BY_ID_DIRECTORY = Path("/dev/serial/by-id")
# The MK3-USB is an FTDI FT-X; other FT-X adapters (Zigbee sticks) share the ids.
MK3_VID = 0x0403
MK3_PID = 0x6015


@dataclass(frozen=True, kw_only=True)
class SerialPort:
    """A serial port and what its USB descriptor says about it."""

    device: str
    by_id: str | None
    vid: int | None
    pid: int | None
    serial_number: str | None
    manufacturer: str | None
    product: str | None

    @property
    def path(self) -> str:
        """The path to store: the by-id link when there is one."""
        return self.by_id or self.device

    @property
    def looks_like_mk3(self) -> bool:
        """FTDI FT-X ids plus a Victron or MK3 description."""
        if (self.vid, self.pid) != (MK3_VID, MK3_PID):
            return False
        text = f"{self.manufacturer or ''} {self.product or ''}".lower()
        return "victron" in text or "mk3" in text

    @property
    def label(self) -> str:
        """What a person picking a port wants to read."""
        parts = [self.product or "Serial port"]
        if self.manufacturer:
            parts.append(f"- {self.manufacturer}")
        if self.serial_number:
            parts.append(f"({self.serial_number})")
        return f"{' '.join(parts)}: {self.path}"


def by_id_path(device: str, directory: Path = BY_ID_DIRECTORY) -> str | None:
    """The /dev/serial/by-id link that points at ``device``, if any."""
    try:
        target = os.path.realpath(device)
        links = sorted(directory.iterdir())
    except OSError:
        return None
    for link in links:
        if os.path.realpath(link) == target:
            return str(link)
    return None


def list_ports(directory: Path = BY_ID_DIRECTORY) -> list[SerialPort]:
    """Every serial port serialx finds, MK3s first."""
    ports = [
        SerialPort(
            device=info.device,
            by_id=by_id_path(info.device, directory),
            vid=info.vid,
            pid=info.pid,
            serial_number=info.serial_number,
            manufacturer=info.manufacturer,
            product=info.product,
        )
        for info in list_serial_ports()
    ]
    return sorted(ports, key=lambda port: (not port.looks_like_mk3, port.path))
