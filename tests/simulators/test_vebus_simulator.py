"""Self-test of the VE.Bus MK3 simulator against the reference's test vectors (no client code)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import os
import time
import tty
from typing import Any

import pytest

from simulators.vebus import (
    INTERFACE_CONFIG_ID,
    MK2_VERSION,
    MODELS,
    Danger,
    FrameParser,
    SettingWrite,
    VebusSimulator,
    _build_parser,
    _simulator_from_args,
    checksum,
    encode_frame,
    encode_mk2,
)

# The Home Assistant test plugin disables sockets after pytest-socket has honoured the
# enable_socket marker, so the socket_enabled fixture (which runs later) is needed too.
pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

h = bytes.fromhex

# Host -> MK3 vectors of reference B.7.
T1 = h("04 FF 41 01 00 BB")
T2 = h("02 FF 56 A9")
T4 = h("02 FF 4C B3")
T5 = h("03 FF 46 01 B7")
T6 = h("03 FF 46 00 B8")
T7 = h("05 FF 57 36 05 00 6A")
T8 = h("05 FF 57 30 0D 00 68")
T9 = h("07 FF 5A 37 00 83 72 01 73")
T10 = h("07 FF 59 37 01 40 D0 07 52")
T11 = h("06 FF 46 06 0E 10 0F 82")
T11B = h("03 FF 58 38 6E")
# MK3 -> host vectors.
T1R = T1
T2R = h("07 FF 56 24 DB 11 00 42 52")
T3 = h("07 FF 56 96 3E 11 00 00 BF")
T4R = h("08 FF 4C 01 0C 00 00 80 00 20")
T5R = h("0F 20 01 01 CA 09 08 AA 58 AB 00 AA 58 9A 00 C3 E8")
T6R = h("0F 20 F3 00 C8 02 0C A1 05 00 00 00 28 00 00 88 B2")
T7R = h("08 FF 57 8E 64 80 8F 00 00 A1")
T8R = h("05 FF 57 85 C8 00 58")
T9R = h("03 FF 5A 87 1D")
T10R = h("03 FF 59 88 1D")
T11R = h("09 FF 58 99 89 FE 05 00 72 01 08")
T12 = h("0D FF 5A 89 01 00 00 00 03 00 01 00 03 00 09")
T13 = h("04 FF 57 80 00 26")
T14 = h("87 FF 58 86 34 81 1F 1F A9")
T15 = h("05 FF 58 85 1F 00 00")
ODD_CHECKSUM_VECTORS = [
    h(text)
    for text in (
        "05 38 04 6C 00 00 0A",
        "05 38 04 6E 00 00 E8",
        "05 38 05 00 00 00 3B",
        "05 3F 00 11 00 00 A7",
        "05 3F C0 72 00 00 70",
        "06 21 00 00 00 00 00 C7",
        "06 21 FF FF FF FF 80 4D",
        "06 21 FF FF FF FF 83 4A",
        "07 21 00 00 00 00 01 00 C5",
        "05 3F 07 00 00 00 C2",
        "05 3F 04 00 00 00 C5",
    )
]
RAW_SLEEP = h("05 3F 04 00 00 00 C5")
RAW_WAKE = h("05 3F 07 00 00 00 C2")

FAST: dict[str, Any] = {
    "pace": False,
    "latency_s": 0.0,
    "f5_latency_s": 0.0,
    "av_latency_s": 0.0,
    "version_frames": False,
}

type SimFactory = Callable[..., VebusSimulator]


def fast_sim(model: str = "multiplus-ii-48-3000", **options: Any) -> VebusSimulator:
    """No pacing, no latency, no unsolicited 'V' frames unless asked for."""
    return VebusSimulator(model, **{**FAST, **options})


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    sims: list[VebusSimulator] = []

    def factory(model: str = "multiplus-ii-48-3000", **options: Any) -> VebusSimulator:
        sim = fast_sim(model, **options)
        sims.append(sim)
        return sim

    yield factory
    for sim in sims:
        await sim.stop()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class WireClient:
    """A bare TCP peer that cuts the stream at length bytes (the simulator sends clean frames)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, url: str) -> WireClient:
        host, port = url.removeprefix("socket://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_frame(self, wait: float = 1.0) -> bytes:
        async with asyncio.timeout(wait):
            while True:
                length = (await self.reader.readexactly(1))[0]
                if 1 <= length & 0x7F <= 20:
                    break
            return bytes([length]) + await self.reader.readexactly((length & 0x7F) + 1)

    async def read_some(self, quiet: float = 0.2) -> bytes:
        data = bytearray()
        while True:
            try:
                async with asyncio.timeout(quiet):
                    chunk = await self.reader.read(256)
            except TimeoutError:
                return bytes(data)
            if not chunk:
                return bytes(data)
            data += chunk

    async def exchange(self, frame: bytes, wait: float = 1.0) -> bytes:
        await self.send(frame)
        return await self.read_frame(wait)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def clients() -> AsyncIterator[list[WireClient]]:
    opened: list[WireClient] = []
    yield opened
    for client in opened:
        await client.close()


async def _connect(sim: VebusSimulator, opened: list[WireClient]) -> WireClient:
    client = await WireClient.connect(await sim.start_tcp())
    opened.append(client)
    return client


def _winmon(letter: str, code: int, *args: int) -> bytes:
    return encode_mk2(letter, bytes([code, *args]))


def _switch(state: int, limit: int, flags: int, *extra: int) -> bytes:
    return encode_mk2("S", bytes([state, limit & 0xFF, limit >> 8, 0x01, flags, *extra]))


def _write_via_id(flags: int, target: int, value: int, letter: str = "X") -> bytes:
    return _winmon(letter, 0x37, flags, target, value & 0xFF, (value >> 8) & 0xFF)


def _only(replies: list[bytes]) -> bytes:
    assert len(replies) == 1, replies
    return replies[0]


def _data(frame: bytes) -> bytes:
    """What follows the command letter of an 0xFF frame, without LEDs and checksum."""
    assert frame[1] == 0xFF
    end = -3 if frame[0] & 0x80 else -1
    return frame[3:end]


# --------------------------------------------------------------------------- framing


def test_every_vector_checksums() -> None:
    plain = [T1, T2, T4, T5, T6, T7, T8, T9, T10, T11, T11B, T2R, T3, T4R, T5R, T6R, T7R]
    plain += [T8R, T9R, T10R, T11R, T12, T13, T14, T15]
    for frame in plain + ODD_CHECKSUM_VECTORS:
        assert checksum(frame[:-1]) == frame[-1], frame.hex(" ")


def test_parser_accepts_host_vectors_in_any_chunking() -> None:
    flipped_t5 = bytearray(T5R)
    flipped_t5[8] ^= 0x04
    stream = (
        h("FF FF 20 00")  # garbage that looks like the start of a frame
        + T1
        + bytes(3)  # stray zero bytes between frames
        + T5
        + bytes(flipped_t5)  # a corrupted frame must be skipped
        + T9
        + T10
        + T11
    )
    expected = [T1, T5, T9, T10, T11]
    bytewise = FrameParser()
    frames = [frame for byte in stream for frame in bytewise.feed(bytes([byte]))]
    assert [frame.raw for frame in frames] == expected
    assert [frame.raw for frame in FrameParser().feed(stream)] == expected
    assert frames[2].body == h("5A 37 00 83 72 01")
    assert bytewise.discarded == len(stream) - sum(map(len, expected))


def test_parser_strips_appended_leds_and_drops_stale_partial_frames() -> None:
    parser = FrameParser()
    (frame,) = parser.feed(T14)
    assert frame.body == h("58 86 34 81")
    assert frame.leds == (0x1F, 0x1F)
    parser.feed(T2[:2], at=0.0)
    assert parser.feed(T2[2:], at=1.0) == []  # a 1 s gap mid-frame loses it
    assert [f.raw for f in parser.feed(T2, at=1.1)] == [T2]


# --------------------------------------------------------------------------- encoder vectors


def _t3(sim: VebusSimulator) -> None:
    sim.respond(T1)


def _t4r(sim: VebusSimulator) -> None:
    sim.override_leds(0x01, 0x0C)  # mains on, bulk + float blinking


def _t5r(sim: VebusSimulator) -> None:
    sim.set_ground_truth(ac_input_voltage=226.98, ac_input_frequency=50.1026)
    sim.pin(ac_input_current=1.71, ac_output_current=1.54)


def _t6r(sim: VebusSimulator) -> None:
    sim.set_ground_truth(ac_input_frequency=50.0255)
    sim.pin(battery_voltage=14.41, battery_current=0.40)


def _t8r(sim: VebusSimulator) -> None:
    sim.set_ground_truth(soc=1.0)


def _t11r(sim: VebusSimulator) -> None:
    sim.set_ground_truth(ac_load_w=5.0)
    sim.respond(T9)  # ESS setpoint 370 W
    assert sim.respond(T11) == []


def _nothing(_sim: VebusSimulator) -> None:
    pass


ENCODER_VECTORS = [
    ("T1r", "multiplus-ii-48-3000", {}, _nothing, T1, [T1R]),
    ("T2r", "multiplus-ii-48-3000", {}, _nothing, T2, [T2R]),
    ("T3", "multiplus-12-500", {"interface_version": MK2_VERSION}, _t3, T2, [T3]),
    ("T4r", "multiplus-12-500", {}, _t4r, T4, [T4R]),
    ("T5r", "multiplus-12-500", {}, _t5r, T5, [T5R]),
    ("T6r", "multiplus-12-500", {}, _t6r, T6, [T6R]),
    ("T7r", "multiplus-12-500", {"reply_format": "short"}, _nothing, T7, [T7R]),
    ("T8r", "multiplus-12-500", {}, _t8r, T8, [T8R]),
    ("T9r", "multiplus-ii-48-3000", {}, _nothing, T9, [T9R]),
    ("T10r", "multiplus-ii-48-3000", {}, _nothing, T10, [T10R]),
    ("T11r", "multiplus-ii-48-3000", {}, _t11r, T11B, [T11R]),
    ("T12", "multiplus-12-500", {}, _nothing, _winmon("Z", 0x35, 14, 0), [T12]),
    ("T13", "multiplus-ii-48-3000", {}, _nothing, _winmon("W", 0x01, 0, 0), [T13]),
]


@pytest.mark.parametrize(
    ("model", "options", "setup", "request_frame", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in ENCODER_VECTORS],
)
def test_encoder_reproduces_vectors(
    model: str,
    options: dict[str, Any],
    setup: Callable[[VebusSimulator], None],
    request_frame: bytes,
    expected: list[bytes],
) -> None:
    sim = fast_sim(model, **options)
    setup(sim)
    assert sim.respond(request_frame) == expected


# --------------------------------------------------------------------------- transports


async def test_tcp_round_trip_is_paced_at_2400_baud(
    make_sim: SimFactory, clients: list[WireClient]
) -> None:
    sim = make_sim(pace=True, latency_s=0.02, av_latency_s=0.03)
    client = await _connect(sim, clients)
    started = time.monotonic()
    assert await client.exchange(T2) == T2R
    elapsed = time.monotonic() - started
    lower_bound = sim.wire_seconds(len(T2) + len(T2R)) + sim.latencies.address_version
    assert lower_bound == pytest.approx(13 * 10 / 2400 + 0.03)
    assert lower_bound <= elapsed < lower_bound + 0.5
    assert sim.counters.bytes_received == len(T2)
    assert sim.counters.bytes_sent == len(T2R)
    assert sim.counters.replies_sent == 1
    assert sim.counters.latency_total_s == pytest.approx(0.03)


async def test_new_connection_replaces_the_old_one(
    make_sim: SimFactory, clients: list[WireClient]
) -> None:
    sim = make_sim()
    first = await _connect(sim, clients)
    assert await first.exchange(T2) == T2R
    assert sim.url is not None
    second = await WireClient.connect(sim.url)
    clients.append(second)
    assert await second.exchange(T1) == T1R
    assert await first.read_some() == b""  # closed by the simulator


async def test_pty_transport(make_sim: SimFactory) -> None:
    sim = make_sim()
    path = await sim.start_pty()
    assert path.startswith("/dev/")
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        tty.setraw(fd)
        os.write(fd, T2)
        received = bytearray()
        async with asyncio.timeout(2.0):
            while len(received) < len(T2R):
                try:
                    received += os.read(fd, 64)
                except BlockingIOError:
                    await asyncio.sleep(0.01)
        assert bytes(received) == T2R
        assert sim.frames_received[-1].command == "V"
        sim.faults.disconnect()
        with pytest.raises(OSError, match="Input/output error"):  # the port is gone
            os.write(fd, T2)
    finally:
        os.close(fd)


async def test_idle_version_frames_and_unsolicited_noise(
    make_sim: SimFactory, clients: list[WireClient]
) -> None:
    sim = make_sim(version_frames=True, version_interval_s=0.1)
    sim.faults.unsolicited_vebus_frames = True
    sim.faults.stray_zero_bytes = True
    client = await _connect(sim, clients)
    await asyncio.sleep(0.4)
    sim.version_frames = False
    sim.faults.unsolicited_vebus_frames = False
    stream = await client.read_some(0.15)
    frames = [frame.raw for frame in FrameParser().feed(stream)]
    assert frames.count(T2R) >= 2
    raw_bus = [frame for frame in frames if frame[1] == 0x21]
    assert raw_bus
    assert all(checksum(frame[:-1]) == frame[-1] for frame in raw_bus)
    assert 0 in stream[: stream.index(T2R)]
    assert sim.counters.unsolicited_sent == len(frames)


# --------------------------------------------------------------------------- values vs truth


def _var_scale(sim: VebusSimulator, var_id: int) -> tuple[float, int, bool]:
    """Multiplier, offset and signedness per reference D.1, from GetRAMVarInfo on the wire."""
    reply = _data(_only(sim.respond(_winmon("X", 0x36, var_id, 0))))
    assert reply[0] == 0x8E
    scale = int.from_bytes(reply[1:3], "little", signed=True)
    offset = int.from_bytes(reply[3:5], "little", signed=True)
    magnitude = abs(scale)
    multiplier = magnitude if magnitude < 0x4000 else 1 / (0x8000 - magnitude)
    return multiplier, offset, scale < 0


def _decode(sim: VebusSimulator, var_id: int, raw: bytes) -> float:
    multiplier, offset, signed = _var_scale(sim, var_id)
    return multiplier * (int.from_bytes(raw, "little", signed=signed) + offset)


def test_ac_and_dc_frames_carry_the_truth_12v() -> None:
    sim = fast_sim("multiplus-12-500")
    sim.set_ground_truth(ac_load_w=300.0, soc=0.4, ac_input_voltage=231.7)
    truth = sim.truth()
    assert truth.state == "charge"
    assert truth.battery_current > 0
    frame = _only(sim.respond(T5))
    assert frame[:2] == h("0F 20")
    assert (frame[5], frame[6]) == (9, 0x08)  # charging, L1 of a 1-phase system
    period = _decode(sim, 8, frame[15:16])
    checks = [
        (_decode(sim, 0, frame[7:9]), truth.ac_input_voltage, 0.01),
        (_decode(sim, 1, frame[9:11]), truth.ac_input_current, 0.01),
        (_decode(sim, 2, frame[11:13]), truth.ac_output_voltage, 0.01),
        (_decode(sim, 3, frame[13:15]), truth.ac_output_current, 0.01),
        (10 / period, truth.ac_input_frequency, 0.3),
    ]
    for decoded, expected, lsb in checks:
        assert decoded == pytest.approx(expected, abs=lsb)
    dc = _only(sim.respond(T6))
    assert dc[6] == 0x0C
    assert _decode(sim, 4, dc[7:9]) == pytest.approx(truth.battery_voltage, abs=0.01)
    charge = int.from_bytes(dc[12:15], "little") * _var_scale(sim, 5)[0]
    assert int.from_bytes(dc[9:12], "little") == 0
    assert charge == pytest.approx(truth.battery_current, abs=0.01)
    assert 10 / _decode(sim, 7, dc[15:16]) == pytest.approx(50.0, abs=0.3)


def test_power_ram_vars_agree_with_ac_frames_48v() -> None:
    sim = fast_sim("multiplus-ii-48-3000", ess=False)
    sim.set_ground_truth(ac_load_w=800.0, soc=0.5)
    truth = sim.truth()
    reply = _data(_only(sim.respond(_winmon("X", 0x30, 14, 15, 16, 13, 5, 4))))
    assert reply[0] == 0x85
    words = [reply[1 + 2 * i : 3 + 2 * i] for i in range(6)]
    inverter, input_power, output = (int.from_bytes(w, "little", signed=True) for w in words[:3])
    assert inverter == round(truth.inverter_power) > 0
    assert input_power == round(-truth.ac_input_power)  # negative: consuming
    assert output == 800
    assert -input_power == pytest.approx(output + inverter, abs=1)
    assert _decode(sim, 13, words[3]) == pytest.approx(0.5, abs=0.005)
    assert _decode(sim, 5, words[4]) == pytest.approx(truth.battery_current, abs=0.1)
    assert _decode(sim, 4, words[5]) == pytest.approx(truth.battery_voltage, abs=0.01)
    ac = _only(sim.respond(T5))
    current = _decode(sim, 1, ac[9:11])
    assert current * _decode(sim, 0, ac[7:9]) == pytest.approx(-input_power, rel=0.01)
    assert _only(sim.respond(_winmon("X", 0x30, 10))) == encode_mk2("X", bytes([0x90, 0]))


def test_unsupported_ids_and_old_firmware_quirks() -> None:
    old = fast_sim("multiplus-12-500")
    assert old.respond(_winmon("X", 0x30, 14, 16)) == [encode_mk2("X", bytes([0x90, 1]))]
    assert old.respond(_winmon("X", 0x36, 16, 0)) == [encode_mk2("X", bytes([0x8E]))]
    assert old.respond(_winmon("X", 0x35, 99, 0)) == [encode_mk2("X", bytes([0x89]))]
    assert old.respond(_winmon("X", 0x31, 99, 0)) == [encode_mk2("X", bytes([0x91]))]
    assert old.respond(_winmon("X", 0x3B)) == [encode_mk2("X", bytes([0x80]))]
    new = fast_sim("multiplus-ii-48-3000", serial_number="HQ0000XYZ12")
    assert new.respond(_winmon("Y", 0x3B)) == [encode_mk2("Y", b"\x9dHQ0000XYZ12")]
    value_b = _data(_only(new.respond(_winmon("W", 0x30, 13, 0))))
    assert len(value_b) == 5  # 'W' returns var 13 and var 0 ("ValueB")


# --------------------------------------------------------------------------- reply formats


def test_long_and_short_winmon_replies() -> None:
    sim = fast_sim("multiplus-ii-48-3000")
    assert not sim.interface.short_replies
    info = _only(sim.respond(_winmon("X", 0x36, 5, 0)))
    assert _data(info) == h("8E 0A 80 00 00")
    setting = _data(_only(sim.respond(_winmon("X", 0x35, 2, 0))))
    assert setting == bytes([0x89]) + h("9C FF 00 00 30 16 10 0E 90 1A") + b"\x00"
    assert _data(_only(sim.respond(_winmon("X", 0x35, 44, 0))))[-1] == 0x01  # grid code
    version = _data(_only(sim.respond(_winmon("X", 0x05))))
    assert version == bytes([0x82]) + (2648506).to_bytes(4, "little") + h("07 01")

    assert sim.respond(_switch(3, 0x8000, 0x90, 0x00, 0x01)) == [encode_mk2("S")]
    assert sim.interface.short_replies
    assert _data(_only(sim.respond(_winmon("Y", 0x36, 5, 0)))) == h("8E 0A 80 8F 00 00")
    first, second = sim.respond(_winmon("Y", 0x35, 2, 0))
    assert _data(first) == h("89 9C FF 8A 00 00 8B 30 16 8C 10 0E")
    assert _data(second) == h("8D 90 1A")
    assert _data(_only(sim.respond(_winmon("Z", 0x05)))) == h("82 BA 69")
    assert _data(_only(sim.respond(_winmon("Z", 0x06)))) == h("83 28 00")
    assert sim.respond(_winmon("X", 0x35, 99, 0)) == [encode_mk2("X", b"\x89")]


def test_led_bytes_appended_until_an_s_frame_clears_the_flag() -> None:
    sim = fast_sim("multiplus-12-500", led_appended=True)
    truth = sim.truth()
    frame = _only(sim.respond(T2))
    assert frame[0] == 0x80 | 9
    assert frame[-3:-1] == bytes([truth.led_on, truth.led_blink])
    (parsed,) = FrameParser().feed(frame)
    assert parsed.body == T2R[2:-1]
    sim.respond(_switch(3, 0x8000, 0x90, 0x00, 0x00))
    assert sim.respond(T2) == [T2R]


# --------------------------------------------------------------------------- writes


def test_eeprom_and_ram_only_setting_writes() -> None:
    sim = fast_sim("multiplus-ii-48-3000")
    written = encode_mk2("X", b"\x88")
    # RAM only: takes effect, invisible to ReadSetting, nothing stored.
    assert sim.respond(_write_via_id(0x03, 6, 100)) == [written]
    assert sim.truth().input_current_limit == 10.0
    assert sim.respond(_winmon("X", 0x31, 6, 0)) == [
        encode_mk2("X", b"\x86" + (320).to_bytes(2, "little"))
    ]
    assert sim.ram_writes == [SettingWrite(6, 100)]
    assert sim.eeprom_writes == []
    assert (sim.eeprom_values[6], sim.ram_values[6]) == (320, 100)
    # Persistent, via WriteViaID and via the two-part 0x33 + 0x34.
    assert sim.respond(_write_via_id(0x01, 3, 5350)) == [written]
    assert sim.respond(_winmon("Y", 0x33, 4, 0)) == []
    assert sim.respond(_winmon("Y", 0x34, 30, 0)) == [encode_mk2("Y", b"\x88")]
    assert sim.eeprom_writes == [SettingWrite(3, 5350), SettingWrite(4, 30)]
    assert [record.via for record in sim.setting_writes] == [
        "write_via_id",
        "write_via_id",
        "write_setting",
    ]
    # Refusals leave no trace.
    assert sim.respond(_winmon("Z", 0x34, 1, 0)) == [encode_mk2("Z", b"\x80")]
    assert sim.respond(_write_via_id(0x01, 4, 36)) == [encode_mk2("X", b"\x80")]
    assert sim.respond(_write_via_id(0x01, 44, 190)) == [encode_mk2("X", b"\x9b\x01")]
    assert sim.respond(_write_via_id(0x01, 99, 1)) == [encode_mk2("X", b"\x80")]
    assert len(sim.setting_writes) == 3
    # A unit reset loses the RAM-only value.
    sim.faults.reset()
    assert sim.ram_values[6] == 320
    assert sim.truth().input_current_limit == 32.0
    assert sim.ram_values[3] == 5350


def test_flag_word_writes_are_masked_and_twin_checked() -> None:
    sim = fast_sim("multiplus-ii-48-3000")
    assert sim.respond(_write_via_id(0x01, 0, 0x80A0 | 0x0008)) == [encode_mk2("X", b"\x88")]
    assert sim.eeprom_writes == [SettingWrite(0, 0x00A8)]  # bit 15 unsupported: dropped
    assert sim.setting_writes[0].flag_word
    assert sim.dangerous == [Danger.WAVE_CHECK_TWIN]


def test_ess_setpoint_writes_and_fallback() -> None:
    clock = FakeClock()
    sim = fast_sim("multiplus-ii-48-3000", clock=clock)
    assert sim.ess_setpoint_id == 131
    headers = _data(_only(sim.respond(_winmon("X", 0x30, 128, 129, 130, 135))))
    assert headers == h("85 90 00 00 88 54 00 00 00")
    sim.set_ground_truth(ac_load_w=200.0)
    assert sim.respond(_write_via_id(0x02, 131, -1000 & 0xFFFF, "Z")) == [T9R]
    truth = sim.truth()
    assert truth.ess_setpoint == -1000
    assert truth.ac_input_power == pytest.approx(1000.0)
    assert truth.battery_current > 0
    assert sim.ram_var_writes[-1] == (131, 0xFC18, True)
    assert sim.eeprom_writes == []
    clock.now += 59.0
    assert sim.truth().ess_setpoint == -1000
    clock.now += 2.0
    truth = sim.truth()
    assert truth.ess_setpoint == 0
    assert truth.ac_input_power == pytest.approx(0.0)  # battery covers the load
    assert truth.state == "invert_full"
    assert sim.respond(_write_via_id(0x00, 128, 1)) == [encode_mk2("X", b"\x80")]
    no_ess = fast_sim("multiplus-ii-48-3000", ess=False)
    assert no_ess.respond(_winmon("X", 0x30, 128)) == [encode_mk2("X", h("85 00 00"))]
    assert no_ess.respond(T9) == [encode_mk2("Z", b"\x80")]


# --------------------------------------------------------------------------- 'S', 'F', phases


def test_switch_frame_and_f5_reply() -> None:
    sim = fast_sim("multiplus-ii-48-3000", ess=False)
    sim.set_ground_truth(ac_load_w=1500.0, soc=0.5)
    f5 = _only(sim.respond(h("03 FF 46 05 B3")))
    assert f5[1] == 0x41
    assert f5[2:6] == h("10 05 00 00")
    assert f5[7:14] == h("1E 00 40 01 40 01 77")  # min 3.0 A, max 32 A, actual 32 A, on
    # Do-not-send-state: only interface flags change.
    sim.respond(_switch(4, 50, 0x90, 0x00, 0x01))
    assert sim.truth().switch_mode == "on"
    sim.respond(_switch(3, 50, 0x80))  # on, 5.0 A
    truth = sim.truth()
    assert truth.input_current_limit == 5.0
    assert truth.ac_input_current == pytest.approx(5.0)
    assert truth.state == "power_assist"
    sim.respond(_switch(1, 0, 0x80))  # charger only, limit 0 -> minimum
    assert sim.truth().input_current_limit == 3.0
    sim.respond(_switch(3, 9999, 0x80))
    assert sim.truth().input_current_limit == 32.0
    sim.respond(_switch(4, 0x8000, 0x80))
    truth = sim.truth()
    assert (truth.switch_mode, truth.state, truth.ac_output_power) == ("off", "off", 0.0)
    assert _only(sim.respond(h("03 FF 46 05 B3")))[13] == 0x44
    assert sim.dangerous == []


def test_missing_phases_stay_silent_and_three_phase_bytes() -> None:
    single = fast_sim("multiplus-ii-48-3000")
    assert single.respond(encode_mk2("F", b"\x02")) == []
    assert single.respond(encode_mk2("F", b"\x07\x01")) == []
    three = fast_sim("multiplus-ii-48-3000", phases=3)
    phase_bytes = [_only(three.respond(encode_mk2("F", bytes([n]))))[6] for n in (1, 2, 3)]
    assert phase_bytes == [0x0A, 0x07, 0x06]
    assert three.respond(encode_mk2("F", b"\x04")) == []
    config = _only(three.respond(encode_mk2("F", b"\x07\x02")))
    assert config[6] == 0x02
    assert config[9:13] == (0b111).to_bytes(4, "little")
    assert config[15] == 2


async def test_f2_times_out_on_a_single_phase_unit(
    make_sim: SimFactory, clients: list[WireClient]
) -> None:
    sim = make_sim()
    client = await _connect(sim, clients)
    with pytest.raises(TimeoutError):
        await client.exchange(encode_mk2("F", b"\x02"), wait=0.2)
    assert await client.exchange(T5) == _only(sim.respond(T5))


# --------------------------------------------------------------------------- dangerous + faults


def test_dangerous_operations_are_recorded() -> None:
    sim = fast_sim(ess=False)
    sim.respond(T1)
    assert sim.respond(encode_mk2("F", h("08 00 00 00 00"))) == []
    assert sim.dangerous == [Danger.VEBUS_RESET]
    assert sim.respond(T2) == [T2R]  # the reset made the interface forget its address
    sim.respond(RAW_SLEEP)
    sim.respond(RAW_WAKE)
    assert _data(_only(sim.respond(_winmon("X", 0x0E, 2)))) == h("94 09 06")
    sim.respond(_switch(3, 0x8000, 0x93, 0x00, 0x00, 0x00))
    assert sim.eeprom_writes == [SettingWrite(INTERFACE_CONFIG_ID, 0)]
    assert sim.respond(encode_mk2("R")) == []
    assert sim.respond(encode_mk2("N")) == []
    assert sim.dangerous == [
        Danger.VEBUS_RESET,
        Danger.RAW_SLEEP,
        Danger.RAW_WAKE,
        Danger.FORCE_ABSORPTION,
        Danger.AUTO_SEND_STATE,
        Danger.INTERFACE_EEPROM,
        Danger.INTERFACE_RESET,
        Danger.HIGH_SPEED,
    ]
    assert [frame.command for frame in sim.frames_received[-3:]] == ["S", "R", "N"]
    assert sim.frames_received[5].winmon_name == "device_state"
    assert sim.truth().leds["bulk"] == "blink"  # forced charge state pattern


async def test_reply_faults_over_tcp(make_sim: SimFactory, clients: list[WireClient]) -> None:
    sim = make_sim()
    client = await _connect(sim, clients)
    sim.faults.drop_next = 1
    with pytest.raises(TimeoutError):
        await client.exchange(T2, wait=0.2)
    sim.faults.corrupt_next = 1
    sim.faults.garbage_next = h("FF FF 20")
    await client.send(T4)
    raw = await client.read_some()
    assert raw.startswith(h("FF FF 20"))
    corrupted = raw[3:]
    assert checksum(corrupted[:-1]) == corrupted[-1] ^ 0xFF
    assert await client.exchange(T1) == T1R
    assert [frame.command for frame in sim.frames_received] == ["V", "L", "A"]


async def test_sleep_wake_reset_and_disconnect(
    make_sim: SimFactory, clients: list[WireClient]
) -> None:
    sim = make_sim()
    client = await _connect(sim, clients)
    assert await client.exchange(T1) == T1R
    # 'H' 07: standby and panel-detect lines pulled.
    assert await client.exchange(encode_mk2("H", b"\x07")) == encode_mk2("H", b"\x07")
    sim.faults.asleep = True
    with pytest.raises(TimeoutError):
        await client.exchange(T2, wait=0.2)
    sim.faults.asleep = False
    assert await client.exchange(T2) == T2R  # address forgotten
    assert await client.exchange(encode_mk2("H")) == encode_mk2("H", b"\x05")
    assert await client.exchange(T1) == T1R
    sim.faults.reset()
    assert await client.read_frame() == encode_frame(0x00, bytes(4))
    assert await client.exchange(T2) == T2R
    sim.faults.disconnect()
    assert await client.read_some() == b""


def test_unattended_off_unit_falls_asleep_until_ac_returns() -> None:
    clock = FakeClock()
    sim = fast_sim("multiplus-12-500", clock=clock)
    sim.respond(T1)
    sim.respond(_switch(4, 0x8000, 0x80))
    sim.set_ground_truth(grid_available=False)
    clock.now += 10.0
    sim.truth()
    assert sim.faults.asleep
    sim.set_ground_truth(grid_available=True)
    assert not sim.faults.asleep
    assert sim.interface.address is None
    assert sim.interface.short_replies  # power-on default of the MK3


# --------------------------------------------------------------------------- physics


def test_charger_stages_and_island_mode() -> None:
    clock = FakeClock()
    sim = fast_sim("multiplus-24-3000", clock=clock)
    sim.set_ground_truth(soc=0.3, ac_load_w=400.0)
    truth = sim.truth()
    assert (truth.state, truth.charge_state) == ("charge", "bulk")
    assert truth.battery_current == pytest.approx(70.0)
    assert truth.leds["bulk"] == "on"
    sim.advance(4 * 3600)
    truth = sim.truth()
    assert truth.charge_state in ("absorption", "float")
    assert truth.soc > 0.85
    assert truth.battery_voltage > 27.5
    sim.set_ground_truth(grid_available=False)
    truth = sim.truth()
    assert (truth.state, truth.ac_input_power, truth.ac_output_power) == ("invert_full", 0, 400)
    assert truth.battery_current < 0
    assert truth.leds == {**dict.fromkeys(truth.leds, "off"), "inverter": "on"}
    soc = truth.soc
    clock.now += 3600
    assert sim.truth().soc < soc
    sim.respond(_switch(1, 0x8000, 0x80))  # charger only without AC: nothing runs
    assert sim.truth().state == "off"


def test_models_table() -> None:
    assert set(MODELS) == {"multiplus-12-500", "multiplus-24-3000", "multiplus-ii-48-3000"}
    small, medium, large = (MODELS[name] for name in sorted(MODELS))
    assert small.ram_vars[1].scale_word == 0x8064
    assert (small.ram_vars[7].scale_word, small.ram_vars[7].offset_word) == (0x7857, 0x0100)
    assert small.ram_vars[8].scale_word == 0x7C2F
    assert small.ram_vars[13].scale_word == 0x7F38
    assert [small.ram_vars[i].bit for i in (10, 11, 12)] == [3, 0, 1]
    assert medium.ram_vars[12].bit == 5
    assert medium.ram_vars[5].multiplier == pytest.approx(0.1)
    assert 10 not in large.ram_vars
    assert [large.ram_vars[i].bit for i in (11, 12)] == [4, 5]
    assert large.settings[65].to_value(170) == 85.0


def test_command_line_options() -> None:
    args = _build_parser().parse_args(
        ["--model", "multiplus-12-500", "--pty", "--phases", "3", "--no-ess", "--no-pace"]
    )
    sim = _simulator_from_args(args)
    assert (sim.model.name, sim.phases, sim.pace, sim.ess_setpoint_id) == (
        "multiplus-12-500",
        3,
        False,
        None,
    )
