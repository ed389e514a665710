"""MK2/MK3 frame layer: ``<len> <type> <payload...> <checksum>`` on a 2400-baud byte stream.

``len`` counts the type byte and the payload (not itself, not the checksum); its top bit says
two LED bytes are appended to the payload. The checksum makes the byte sum of the whole frame
zero modulo 256. Raw VE.Bus frame types 0x21, 0x38, 0x3D and 0x3F use a different checksum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MK2_FRAME = 0xFF  # followed by an ASCII command letter
INFO_FRAME = 0x20  # replies to 'F' 0..4 and 'F' 7
INPUT_CONFIG_FRAME = 0x41  # reply to 'F' 5
PANEL_FRAME = 0x40
BOOT_FRAME = 0x00  # sent once by a unit that has just restarted
ODD_CHECKSUM_TYPES = frozenset({0x21, 0x38, 0x3D, 0x3F})
KNOWN_TYPES = frozenset(
    {MK2_FRAME, INFO_FRAME, INPUT_CONFIG_FRAME, PANEL_FRAME, BOOT_FRAME, 0x3C} | ODD_CHECKSUM_TYPES
)
LED_FLAG = 0x80
MAX_LENGTH = 20  # longest type + payload the interface sends
# A frame in progress that stops for this long is garbage; resynchronise.
INTER_BYTE_TIMEOUT_S = 0.3


def checksum(data: bytes) -> int:
    """The byte that makes ``sum(data + checksum)`` a multiple of 256."""
    return -sum(data) & 0xFF


def odd_checksum(data: bytes) -> int:
    """Checksum of raw VE.Bus frames: the nibble-swapped bytes 1, 3 and 5 count twice."""
    total = sum(data)
    for position in (1, 3, 5):
        if position < len(data):
            byte = data[position]
            total += ((byte << 4) | (byte >> 4)) & 0xFF
    return -total & 0xFF


def encode_frame(frame_type: int, payload: bytes) -> bytes:
    """A complete frame with length and checksum."""
    length = 1 + len(payload)
    if not 1 <= length <= MAX_LENGTH:
        raise ValueError(f"frame too long: {length} bytes")
    body = bytes((length, frame_type)) + payload
    check = odd_checksum(body) if frame_type in ODD_CHECKSUM_TYPES else checksum(body)
    return body + bytes((check,))


def encode_command(letter: str, data: bytes = b"") -> bytes:
    """An MK2 command frame: type 0xFF, the command letter, its data."""
    return encode_frame(MK2_FRAME, letter.encode("ascii") + data)


@dataclass(frozen=True, slots=True)
class Frame:
    """A received frame. ``payload`` excludes the type byte and any appended LED bytes."""

    frame_type: int
    payload: bytes
    leds: tuple[int, int] | None = None

    @property
    def letter(self) -> str | None:
        """The command letter of an MK2 frame."""
        if self.frame_type == MK2_FRAME and self.payload:
            return chr(self.payload[0])
        return None

    @property
    def data(self) -> bytes:
        """An MK2 frame's bytes after the command letter."""
        return self.payload[1:] if self.frame_type == MK2_FRAME else self.payload


@dataclass(slots=True)
class ParserCounters:
    """What the parser saw, for diagnostics."""

    frames: int = 0
    dropped_bytes: int = 0
    checksum_errors: int = 0
    resyncs: int = 0


@dataclass(slots=True)
class FrameParser:
    """Turns a byte stream, in chunks of any size, into frames.

    A candidate frame needs a plausible length byte, a known type and a correct checksum;
    anything else is dropped one byte at a time until a frame lines up again. A frame that
    stalls for :data:`INTER_BYTE_TIMEOUT_S` is given up (see :meth:`expire`).
    """

    counters: ParserCounters = field(default_factory=ParserCounters)
    _buffer: bytearray = field(default_factory=bytearray)
    _last_byte_at: float = 0.0

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame waiting for the rest."""
        return len(self._buffer)

    def feed(self, data: bytes, now: float) -> list[Frame]:
        """Add received bytes; returns every frame they complete."""
        frames: list[Frame] = []
        if self._buffer and now - self._last_byte_at > INTER_BYTE_TIMEOUT_S:
            frames += self._give_up_partial()
        self._last_byte_at = now
        self._buffer += data
        frames += self._extract()
        return frames

    def expire(self, now: float) -> list[Frame]:
        """Call when the line has been quiet: a stalled candidate was garbage."""
        if self._buffer and now - self._last_byte_at >= INTER_BYTE_TIMEOUT_S:
            return self._give_up_partial()
        return []

    def _give_up_partial(self) -> list[Frame]:
        # The stalled start was garbage, but complete frames may follow it in the buffer.
        frames: list[Frame] = []
        while self._buffer:
            self._drop(1)
            frames += self._extract()
        return frames

    def _extract(self) -> list[Frame]:
        frames: list[Frame] = []
        while self._buffer:
            length_byte = self._buffer[0]
            length = length_byte & ~LED_FLAG
            if not 1 <= length <= MAX_LENGTH:
                self._drop(1)
                continue
            if len(self._buffer) < 2:
                break
            if self._buffer[1] not in KNOWN_TYPES:
                self._drop(1)
                continue
            total = length + 2
            if len(self._buffer) < total:
                break
            candidate = bytes(self._buffer[:total])
            frame = _decode(candidate)
            if frame is None:
                self.counters.checksum_errors += 1
                self._drop(1)
                continue
            del self._buffer[:total]
            self.counters.frames += 1
            frames.append(frame)
        return frames

    def _drop(self, count: int) -> None:
        if self._buffer[0] != 0x00:  # stray zero bytes between frames are normal
            self.counters.resyncs += 1
        del self._buffer[:count]
        self.counters.dropped_bytes += count


def _decode(candidate: bytes) -> Frame | None:
    frame_type = candidate[1]
    body, check = candidate[:-1], candidate[-1]
    expected = odd_checksum(body) if frame_type in ODD_CHECKSUM_TYPES else checksum(body)
    if check != expected:
        return None
    payload = candidate[2:-1]
    if candidate[0] & LED_FLAG:
        if len(payload) < 2:
            return None
        return Frame(frame_type, payload[:-2], (payload[-2], payload[-1]))
    return Frame(frame_type, payload)
