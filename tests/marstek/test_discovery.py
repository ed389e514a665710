"""Broadcast discovery against several simulated batteries on loopback."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from custom_components.vebus_marstek.marstek import broadcast_targets, discover

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

LOOPBACK_TARGETS = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]


class _Impostor(asyncio.DatagramProtocol):
    """Something else on the port that answers everything without saying what it is."""

    transport: asyncio.DatagramTransport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = json.loads(data)
        self.transport.sendto(json.dumps({"id": request["id"], "result": {"ok": 1}}).encode(), addr)


async def test_discovery_finds_each_battery_once(start_simulator, api_port) -> None:
    e3 = await start_simulator("venus-e3", host="127.0.0.2")
    venus_c = await start_simulator("venus-c-153", host="127.0.0.3")  # leaves out its MACs
    await start_simulator("venus-e-mini", host="127.0.0.4")  # ignores discovery
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.5", api_port))
    impostor, _ = await loop.create_datagram_endpoint(_Impostor, sock=sock)
    try:
        found = await discover(
            api_port, targets=LOOPBACK_TARGETS, duration_s=0.25, interval_s=0.1, tail_s=0.1
        )
    finally:
        impostor.close()
    assert [(d.ip, d.ble_mac) for d in found] == [
        ("127.0.0.2", e3.state.ble_mac),
        ("127.0.0.3", venus_c.state.ble_mac),
    ]
    assert found[0].device == "VenusE 3.0"
    assert found[0].firmware == 150
    assert found[0].port == api_port
    # Every broadcast was answered, yet each battery is listed once.
    assert len(e3.requests) >= 3


async def test_discovery_with_nothing_there(api_port) -> None:
    assert await discover(api_port, targets=["127.0.0.9"], duration_s=0, tail_s=0.05) == []


def test_broadcast_targets_start_with_the_global_broadcast() -> None:
    targets = broadcast_targets()
    assert targets[0] == "255.255.255.255"
    assert "0.0.0.0" not in targets
    assert len(targets) == len(set(targets))
