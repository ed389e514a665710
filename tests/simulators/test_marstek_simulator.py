"""Self-test of the Marstek Open API simulator over real loopback UDP (no client code)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json

import pytest

from simulators.marstek import PROFILES, MarstekSimulator, Mode

SIM_HOST = "127.0.0.2"
CLIENT_HOST = "127.0.0.1"

# The Home Assistant test plugin disables sockets after pytest-socket has honoured the
# enable_socket marker, so the socket_enabled fixture (which runs later) is needed too.
pytestmark = [
    pytest.mark.enable_socket,
    pytest.mark.allow_hosts([CLIENT_HOST, SIM_HOST]),
    pytest.mark.usefixtures("socket_enabled"),
]


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait(json.loads(data))


class RawClient:
    """A bare UDP peer: unconnected sendto, every reply decoded into a queue."""

    def __init__(self, transport: asyncio.DatagramTransport, collector: _Collector) -> None:
        self._transport = transport
        self._collector = collector

    def send_bytes(self, data: bytes, port: int) -> None:
        self._transport.sendto(data, (SIM_HOST, port))

    def send(self, port: int, request_id: int, method: str, params: dict[str, object]) -> None:
        message = {"id": request_id, "method": method, "params": params}
        self.send_bytes(json.dumps(message, separators=(",", ":")).encode(), port)

    async def receive(self, wait: float = 1.0) -> dict[str, object]:
        async with asyncio.timeout(wait):
            return await self._collector.queue.get()

    async def drain(self, quiet: float = 0.2) -> list[dict[str, object]]:
        replies = []
        while True:
            try:
                replies.append(await self.receive(quiet))
            except TimeoutError:
                return replies


@pytest.fixture
async def client(socket_enabled: None) -> AsyncIterator[RawClient]:
    loop = asyncio.get_running_loop()
    transport, collector = await loop.create_datagram_endpoint(
        _Collector, local_addr=(CLIENT_HOST, 0)
    )
    yield RawClient(transport, collector)
    transport.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _result(reply: dict[str, object]) -> dict[str, object]:
    result = reply["result"]
    assert isinstance(result, dict)
    return result


async def test_get_device_reply_shape(client: RawClient) -> None:
    async with MarstekSimulator(
        profile="venus-e3", host=SIM_HOST, port=0, ble_mac="5037cd7f1ec6"
    ) as sim:
        client.send(sim.port, 65536 + 7, "Marstek.GetDevice", {"ble_mac": "0"})
        reply = await client.receive()
    assert reply == {
        "id": 7,  # the firmware keeps ids as uint16
        "src": "VenusE 3.0-5037cd7f1ec6",
        "result": {
            "device": "VenusE 3.0",
            "ver": 150,
            "ble_mac": "5037cd7f1ec6",
            "wifi_mac": sim.state.ap_bssid,
            "wifi_name": sim.state.ssid,
            "ip": SIM_HOST,
        },
    }
    assert [r.method for r in sim.requests] == ["Marstek.GetDevice"]


async def test_targeted_discovery_only_answers_own_mac(client: RawClient) -> None:
    async with MarstekSimulator(profile="venus-a", host=SIM_HOST, port=0) as sim:
        client.send(sim.port, 1, "Marstek.GetDevice", {"ble_mac": "aabbccddeeff"})
        client.send(sim.port, 2, "Marstek.GetDevice", {"ble_mac": sim.state.ble_mac.upper()})
        replies = await client.drain()
    assert [r["id"] for r in replies] == [2]


async def test_garbage_gets_parse_error_with_id_zero(client: RawClient) -> None:
    async with MarstekSimulator(profile="venus-e2", host=SIM_HOST, port=0) as sim:
        client.send_bytes(b"{not json", sim.port)
        reply = await client.receive()
        assert reply == {
            "id": 0,
            "src": sim.src,
            "error": {"code": -32700, "message": "Parse error"},
        }
        assert sim.requests == []


async def test_pv_on_venus_e3_is_method_not_found_with_data(client: RawClient) -> None:
    async with MarstekSimulator(profile="venus-e3", host=SIM_HOST, port=0) as sim:
        client.send(sim.port, 11, "PV.GetStatus", {"id": 0})
        reply = await client.receive()
    assert reply["error"] == {"code": -32601, "message": "Method not found", "data": 424}


async def test_venus_e3_139_scales_temperature_and_capacity(client: RawClient) -> None:
    async with MarstekSimulator(profile="venus-e3-139", host=SIM_HOST, port=0) as sim:
        sim.faults.duplicates = 0
        sim.set_ground_truth(soc=45.0, temperature_c=28.0)
        client.send(sim.port, 5, "Bat.GetStatus", {"id": 0})
        result = _result(await client.receive())
    assert result["bat_temp"] == 280  # 0.1 degC
    assert result["bat_capacity"] == 230  # 10 Wh: 45 % of 5120 Wh
    assert result["rated_capacity"] == 5120


async def test_venus_e2_current_firmware_reports_tens_of_degrees(client: RawClient) -> None:
    async with MarstekSimulator(profile="venus-e2", host=SIM_HOST, port=0) as sim:
        sim.set_ground_truth(temperature_c=17.0)
        client.send(sim.port, 6, "Bat.GetStatus", {"id": 0})
        result = _result(await client.receive())
    assert result["bat_temp"] == 1.7  # jaapp #1: a 17 degC pack


async def test_venus_e3_148_with_its_ct_in_es_getmode(client: RawClient) -> None:
    """EM.GetStatus is "method not found"; ES.GetMode has ct_state 1 and the phases."""
    async with MarstekSimulator(profile="venus-e3-148-ct-in-mode", host=SIM_HOST, port=0) as sim:
        sim.faults.duplicates = 0
        sim.set_ground_truth(house_load_w=600.0, mode=Mode.PASSIVE)
        sim.state.passive_power_w = -1000.0  # charging: the house imports on every phase
        sim.state.passive_remaining_s = 600.0
        truth = sim.truth()
        client.send(sim.port, 7, "EM.GetStatus", {"id": 0})
        assert (await client.receive())["error"] == {"code": -32601, "message": "Method not found"}
        client.send(sim.port, 8, "ES.GetMode", {"id": 0})
        mode = _result(await client.receive())
    assert mode["ct_state"] == 1
    assert mode["total_power"] == round(truth.meter_total_w) != 0
    assert [mode["a_power"], mode["b_power"], mode["c_power"]] == [
        round(p) for p in truth.meter_phase_w
    ]


async def test_passive_countdown_ends_at_zero_watts_still_passive(client: RawClient) -> None:
    clock = FakeClock()
    async with MarstekSimulator(profile="venus-e3", host=SIM_HOST, port=0, clock=clock) as sim:
        config = {"mode": "Passive", "passive_cfg": {"power": -1000, "cd_time": 60}}
        client.send(sim.port, 21, "ES.SetMode", {"id": 0, "config": config})
        assert _result(await client.receive()) == {"id": 0, "set_result": True}
        assert sim.truth().battery_power_w == 1000.0  # - in SetMode means charging

        clock.now += 30
        client.send(sim.port, 22, "ES.GetStatus", {"id": 0})
        assert _result(await client.receive())["ongrid_power"] == -1000

        clock.now += 31
        client.send(sim.port, 23, "ES.GetMode", {"id": 0})
        mode = _result(await client.receive())
    assert mode["mode"] == "Passive"
    assert mode["ongrid_power"] == 0
    assert sim.state.mode is Mode.PASSIVE
    assert sim.truth().battery_power_w == 0.0
    assert sim.state.soc == pytest.approx(50.0 + 1000 * 60 / 3600 / 5120 * 100)


async def test_duplicates_fault_repeats_every_reply(client: RawClient) -> None:
    async with MarstekSimulator(profile="venus-e3", host=SIM_HOST, port=0) as sim:
        sim.faults.duplicates = 2
        client.send(sim.port, 31, "ES.GetMode", {"id": 0})
        replies = await client.drain()
    assert len(replies) == 3
    assert all(r == replies[0] for r in replies)
    assert sim.counters.replies_sent == 3


async def test_busy_fault_is_not_executed(client: RawClient) -> None:
    async with MarstekSimulator(profile="venus-d", host=SIM_HOST, port=0) as sim:
        sim.faults.busy_next = 1
        client.send(sim.port, 41, "DOD.SET", {"value": 40})
        reply = await client.receive()
        assert reply["id"] == 0
        assert reply["error"] == {"code": -32700, "message": "Parse error", "data": 403}
        assert sim.state.dod == 88
        client.send(sim.port, 42, "DOD.SET", {"value": 40})
        assert _result(await client.receive())["set_result"] is True
        assert sim.state.dod == 40


def test_profiles_match_the_model_table() -> None:
    expected = {
        "venus-e2": ("VenusE", "VenusE", 156),
        "venus-c-153": ("VenusC", "VenusC", 153),
        "venus-e3": ("VenusE 3.0", "VenusE 3.0", 150),
        "venus-e3-139": ("VenusE 3.0", "VenusE 3.0", 139),
        "venus-a": ("Venus A", "VenusA", 147),
        "venus-d": ("VenusD", "VenusD", 151),
        "venus-e-mini": ("Venus E mini", "VNSEM-0", 301),
    }
    for name, (device, prefix, ver) in expected.items():
        profile = PROFILES[name]
        assert (profile.device, profile.src_prefix, profile.ver) == (device, prefix, ver)
    assert "EM.GetStatus" not in PROFILES["venus-c-153"].capabilities
    assert "PV.GetStatus" in PROFILES["venus-a"].capabilities
    assert PROFILES["venus-e-mini"].slot_count == 6
