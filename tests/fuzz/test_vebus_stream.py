"""Property-based fuzzing of the MK2/MK3 byte-stream decoder.

No input may raise; frames in a stream are decoded however the stream is cut into reads;
a frame embedded in bytes that cannot start a frame is always found; a corrupted frame is
never taken for the original.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.vebus_marstek.vebus.framing import (
    INTER_BYTE_TIMEOUT_S,
    KNOWN_TYPES,
    LED_FLAG,
    MAX_LENGTH,
    ODD_CHECKSUM_TYPES,
    Frame,
    FrameParser,
    checksum,
    odd_checksum,
)

from .conftest import EXAMPLES

# Derandomised, so CI runs the same examples every time.
FUZZ = settings(
    max_examples=5000,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
DECODER = "VE.Bus byte streams"


@st.composite
def frames(draw: st.DrawFn) -> tuple[bytes, Frame]:
    """A valid frame (LED bytes appended to some) and what it must decode to."""
    frame_type = draw(st.sampled_from(sorted(KNOWN_TYPES)))
    leds = None
    if frame_type not in ODD_CHECKSUM_TYPES:
        leds = draw(st.none() | st.tuples(st.integers(0, 255), st.integers(0, 255)))
    room = MAX_LENGTH - 1 - (2 if leds else 0)
    payload = draw(st.binary(max_size=room))
    body = payload + (bytes(leds) if leds else b"")
    head = bytes(((1 + len(body)) | (LED_FLAG if leds else 0), frame_type)) + body
    check = odd_checksum(head) if frame_type in ODD_CHECKSUM_TYPES else checksum(head)
    return head + bytes((check,)), Frame(frame_type, payload, leds)


# Bytes that can be neither a length byte (1..20, or with the LED flag) nor a stray zero:
# garbage made of them cannot swallow a real frame.
inert_bytes = st.binary(max_size=40).map(
    lambda data: bytes(b for b in data if (b & 0x7F) > MAX_LENGTH)
)


def _decode(stream: bytes, cuts: list[int]) -> list[Frame]:
    parser = FrameParser()
    decoded: list[Frame] = []
    start = 0
    for cut in [*sorted(cuts), len(stream)]:
        decoded += parser.feed(stream[start:cut], now=0.0)
        start = max(start, cut)
    return decoded + parser.expire(now=INTER_BYTE_TIMEOUT_S * 2)


@FUZZ
@given(data=st.binary(max_size=200), cuts=st.lists(st.integers(0, 200), max_size=8))
def test_random_bytes_never_raise(data: bytes, cuts: list[int]) -> None:
    EXAMPLES[DECODER] += 1
    for frame in _decode(data, cuts):
        assert frame.frame_type in KNOWN_TYPES


@FUZZ
@given(
    items=st.lists(st.tuples(inert_bytes, frames()), min_size=1, max_size=5),
    tail=inert_bytes,
    cuts=st.lists(st.integers(0, 400), max_size=10),
)
def test_every_frame_in_garbage_is_decoded(
    items: list[tuple[bytes, tuple[bytes, Frame]]], tail: bytes, cuts: list[int]
) -> None:
    """Concatenated frames with garbage between them, cut into reads anywhere."""
    EXAMPLES[DECODER] += 1
    stream = b"".join(garbage + raw for garbage, (raw, _) in items) + tail
    assert _decode(stream, cuts) == [expected for _, (_, expected) in items]


@FUZZ
@given(frame=frames(), position=st.integers(0, 10_000), bit=st.integers(0, 7), after=frames())
def test_a_corrupted_frame_is_never_taken_for_the_original(
    frame: tuple[bytes, Frame], position: int, bit: int, after: tuple[bytes, Frame]
) -> None:
    EXAMPLES[DECODER] += 1
    raw, original = frame
    corrupted = bytearray(raw)
    corrupted[position % len(raw)] ^= 1 << bit
    decoded = _decode(bytes(corrupted) + after[0], [])
    # Any single flipped bit changes the checksum sum, so the original never comes out...
    assert decoded.count(original) == decoded.count(after[1]) * (original == after[1])
    # ...and the next frame is found, unless the corrupted bytes plus its start happen to
    # form another valid frame (about 1 in 256), which then consumed it.
    assert after[1] in decoded or decoded


@FUZZ
@given(frame=frames(), split=st.integers(0, MAX_LENGTH + 2))
def test_a_frame_split_at_any_offset_decodes_once(frame: tuple[bytes, Frame], split: int) -> None:
    EXAMPLES[DECODER] += 1
    raw, expected = frame
    assert _decode(raw, [split]) == [expected]
