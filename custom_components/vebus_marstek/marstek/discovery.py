"""Broadcast discovery: every battery on the LAN answers Marstek.GetDevice with ble_mac "0"."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import fcntl
import socket
import struct

from .connection import DEFAULT_PORT, acquire_endpoint, release_endpoint
from .framing import Reply, ResultReply
from .messages import DISCOVERY_PARAMS, Method, normalise_ip, parse_device

GLOBAL_BROADCAST = "255.255.255.255"
_SIOCGIFBRDADDR = 0x8919  # Linux ioctl: an interface's broadcast address


@dataclass(frozen=True, kw_only=True)
class DiscoveredDevice:
    """A battery that answered a discovery broadcast."""

    ip: str
    port: int
    ble_mac: str
    device: str
    firmware: int | None
    wifi_mac: str | None


async def discover(
    port: int = DEFAULT_PORT,
    *,
    targets: list[str] | None = None,
    duration_s: float = 9.0,
    interval_s: float = 2.0,
    tail_s: float = 2.0,
) -> list[DiscoveredDevice]:
    """Broadcast GetDevice every ``interval_s`` for ``duration_s``, then listen ``tail_s`` more.

    Every device answers every broadcast, so answers are de-duplicated by BLE MAC (taken
    from ``src`` when the firmware leaves it out). Answers without an identity are ignored.
    """
    found: dict[str, DiscoveredDevice] = {}

    def on_reply(host: str, reply: Reply) -> None:
        if not isinstance(reply, ResultReply):
            return
        identity = parse_device(reply.result, reply.src)
        ip = normalise_ip(host)
        if identity.ble_mac is None or ip is None or not identity.device:
            return
        found.setdefault(
            identity.ble_mac,
            DiscoveredDevice(
                ip=ip,
                port=port,
                ble_mac=identity.ble_mac,
                device=identity.device,
                firmware=identity.firmware,
                wifi_mac=identity.wifi_mac,
            ),
        )

    addresses = targets if targets is not None else broadcast_targets()
    endpoint = await acquire_endpoint(port)
    request_id = endpoint.add_discovery_listener(on_reply)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + duration_s
        while True:
            endpoint.broadcast(addresses, Method.GET_DEVICE, DISCOVERY_PARAMS, request_id)
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.sleep(min(interval_s, remaining))
        await asyncio.sleep(tail_s)
    finally:
        endpoint.remove_discovery_listener(request_id)
        await release_endpoint(endpoint)
    return sorted(found.values(), key=lambda d: (d.ip, d.ble_mac))


def broadcast_targets() -> list[str]:
    """The global broadcast plus each IPv4 interface's directed broadcast (Linux)."""
    targets = [GLOBAL_BROADCAST]
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            if name == "lo":
                continue
            with contextlib.suppress(OSError):
                request = struct.pack("256s", name[:15].encode())
                answer = fcntl.ioctl(sock.fileno(), _SIOCGIFBRDADDR, request)
                address = socket.inet_ntoa(answer[20:24])
                if address not in targets and address != "0.0.0.0":
                    targets.append(address)
    return targets
