"""MK2 framing against the reference's verified vectors (T1-T15) and its negative tests."""

from __future__ import annotations

import pytest

from custom_components.vebus_marstek.vebus.framing import (
    INTER_BYTE_TIMEOUT_S,
    Frame,
    FrameParser,
    encode_command,
    encode_frame,
)

T2R = bytes.fromhex("07 FF 56 24 DB 11 00 42 52")
T4R = bytes.fromhex("08 FF 4C 01 0C 00 00 80 00 20")
T5R = bytes.fromhex("0F 20 01 01 CA 09 08 AA 58 AB 00 AA 58 9A 00 C3 E8")
T14 = bytes.fromhex("87 FF 58 86 34 81 1F 1F A9")
T15 = bytes.fromhex("05 FF 58 85 1F 00 00")


def _parse(*chunks: bytes) -> list[Frame]:
    parser = FrameParser()
    frames: list[Frame] = []
    for chunk in chunks:
        frames += parser.feed(chunk, now=0.0)
    return frames


@pytest.mark.parametrize(
    ("letter", "data", "vector"),
    [
        ("A", b"\x01\x00", "04 FF 41 01 00 BB"),  # T1
        ("V", b"", "02 FF 56 A9"),  # T2
        ("L", b"", "02 FF 4C B3"),  # T4
        ("F", b"\x01", "03 FF 46 01 B7"),  # T5
        ("F", b"\x00", "03 FF 46 00 B8"),  # T6
        ("W", bytes.fromhex("36 05 00"), "05 FF 57 36 05 00 6A"),  # T7
        ("Z", bytes.fromhex("37 00 83 72 01"), "07 FF 5A 37 00 83 72 01 73"),  # T9
        ("Y", bytes.fromhex("37 01 40 D0 07"), "07 FF 59 37 01 40 D0 07 52"),  # T10
        ("F", bytes.fromhex("06 0E 10 0F"), "06 FF 46 06 0E 10 0F 82"),  # T11
        ("X", b"\x38", "03 FF 58 38 6E"),  # T11b
    ],
)
def test_commands_encode_to_the_reference_vectors(letter: str, data: bytes, vector: str) -> None:
    assert encode_command(letter, data) == bytes.fromhex(vector)


@pytest.mark.parametrize(
    "vector",
    [
        "05 38 04 6C 00 00 0A",
        "05 38 04 6E 00 00 E8",
        "05 38 05 00 00 00 3B",
        "05 3F 00 11 00 00 A7",
        "05 3F C0 72 00 00 70",
        "06 21 00 00 00 00 00 C7",
        "06 21 FF FF FF FF 80 4D",
        "06 21 FF FF FF FF 83 4A",
        "07 21 00 00 00 00 01 00 C5",
    ],
)
def test_raw_vebus_frames_use_the_odd_checksum(vector: str) -> None:
    raw = bytes.fromhex(vector)
    assert encode_frame(raw[1], raw[2:-1]) == raw
    assert len(_parse(raw)) == 1


def test_led_appended_frame_t14() -> None:
    """The length byte's top bit: two LED bytes ride along (not a "bogus length")."""
    (frame,) = _parse(T14)
    assert frame.letter == "X"
    assert frame.payload == bytes.fromhex("58 86 34 81")
    assert frame.leds == (0x1F, 0x1F)


def test_checksum_zero_is_a_valid_checksum_t15() -> None:
    (frame,) = _parse(T15)
    assert frame.data == bytes.fromhex("85 1F 00")


def test_any_chunking_gives_the_same_frames() -> None:
    stream = T2R + T5R + T4R + T14
    whole = _parse(stream)
    one_byte_at_a_time = _parse(*(bytes((b,)) for b in stream))
    assert whole == one_byte_at_a_time
    assert [f.frame_type for f in whole] == [0xFF, 0x20, 0xFF, 0xFF]


def test_two_frames_in_one_read() -> None:
    frames = _parse(T2R + T4R)
    assert [f.letter for f in frames] == ["V", "L"]


def test_garbage_before_a_frame_is_skipped() -> None:
    parser = FrameParser()
    (frame,) = parser.feed(bytes.fromhex("FF FF 20 00") + T2R, now=0.0)
    assert frame.letter == "V"
    assert parser.counters.resyncs >= 1


@pytest.mark.parametrize("bit", range(len(T5R) * 8))
def test_a_flipped_bit_is_rejected_and_the_next_frame_still_decodes(bit: int) -> None:
    corrupted = bytearray(T5R)
    corrupted[bit // 8] ^= 1 << (bit % 8)
    parser = FrameParser()
    frames = parser.feed(bytes(corrupted) + T2R, now=0.0)
    frames += parser.expire(now=1.0)
    assert T5R not in [bytes(f.payload) for f in frames]
    assert frames[-1].letter == "V"
    assert all(f.frame_type != 0x20 or f.payload != T5R[2:-1] for f in frames)


def test_a_stalled_partial_frame_is_given_up() -> None:
    parser = FrameParser()
    assert parser.feed(T5R[:6], now=0.0) == []
    assert parser.pending == 6
    assert parser.expire(now=INTER_BYTE_TIMEOUT_S / 2) == []
    frames = parser.feed(T2R, now=1.0)  # after a silence the old start is garbage
    assert [f.letter for f in frames] == ["V"]
    assert parser.pending == 0


def test_expire_recovers_a_frame_stuck_behind_a_false_start() -> None:
    """A garbage byte that looks like a long frame must not hold back a real one."""
    parser = FrameParser()
    assert parser.feed(bytes((0x12, 0xFF)) + T2R, now=0.0) == []
    (frame,) = parser.expire(now=1.0)
    assert frame.letter == "V"


def test_stray_zero_bytes_between_frames_are_not_resyncs() -> None:
    parser = FrameParser()
    frames = parser.feed(b"\x00\x00" + T2R + b"\x00" + T4R, now=0.0)
    assert len(frames) == 2
    assert parser.counters.resyncs == 0
    assert parser.counters.dropped_bytes == 3


def test_frames_that_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="too long"):
        encode_frame(0xFF, bytes(25))
    # A LED-flagged frame too short to hold its LED bytes is not a frame.
    short = bytes((0x82, 0xFF, 0x56))
    assert _parse(short + bytes(((-sum(short)) & 0xFF,))) == []
