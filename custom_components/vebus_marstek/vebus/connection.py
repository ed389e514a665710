"""The serial link to an MK2/MK3: one request at a time, replies matched to requests.

Opened through serialx, so a local device path, ``socket://host:port`` (ser2net),
``rfc2217://`` and ESPHome serial proxies all work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import logging

from serialx import SerialException, create_serial_connection

from .errors import VebusConnectionError, VebusTimeoutError
from .framing import INTER_BYTE_TIMEOUT_S, Frame, FrameParser

_LOGGER = logging.getLogger(__name__)

BAUDRATE = 2400
# Bits on the wire per byte at 8N1: start + 8 data + stop.
BITS_PER_BYTE = 10

type FrameMatcher = Callable[[Frame], bool]
type ReplyComplete = Callable[[list[Frame]], bool]
type FrameListener = Callable[[Frame], None]


@dataclass(slots=True)
class LinkCounters:
    """Traffic on the link, for diagnostics and benchmarks."""

    requests: int = 0
    timeouts: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    unsolicited: int = 0


class _Protocol(asyncio.Protocol):
    def __init__(self, link: VebusConnection) -> None:
        self._link = link

    def data_received(self, data: bytes) -> None:
        self._link.handle_bytes(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._link.handle_lost(exc)


@dataclass(slots=True)
class _Waiter:
    matcher: FrameMatcher
    complete: ReplyComplete
    frames: list[Frame]
    future: asyncio.Future[list[Frame]]


class VebusConnection:
    """Frames in and out of one serial port, with exactly one request outstanding."""

    def __init__(self, url: str, *, on_frame: FrameListener | None = None) -> None:
        self.url = url
        self.parser = FrameParser()
        self.counters = LinkCounters()
        self._on_frame = on_frame
        self._transport: asyncio.Transport | None = None
        self._waiter: _Waiter | None = None
        self._lock = asyncio.Lock()
        self._expiry: asyncio.TimerHandle | None = None
        self.last_frame_at: float | None = None
        self.lost = asyncio.Event()

    @property
    def is_open(self) -> bool:
        """Whether the port is open and has not gone away."""
        return self._transport is not None and not self.lost.is_set()

    async def open(self) -> None:
        """Open the port at 2400 baud 8N1, or raise :class:`VebusConnectionError`."""
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await create_serial_connection(
                loop, lambda: _Protocol(self), self.url, baudrate=BAUDRATE
            )
        # RuntimeError: serialx cannot serve the URL's scheme here (esphome:// needs the
        # aioesphomeapi package, which Home Assistant has once its ESPHome integration is set up).
        except (OSError, SerialException, ValueError, RuntimeError) as err:
            raise VebusConnectionError(f"cannot open {self.url}: {err}") from err
        self._transport = transport
        self.lost.clear()

    async def close(self) -> None:
        """Close the port."""
        transport, self._transport = self._transport, None
        if self._expiry is not None:
            self._expiry.cancel()
        if transport is not None:
            transport.close()
        self._fail_waiter(VebusConnectionError("the port was closed"))

    async def request(
        self,
        frame: bytes,
        matcher: FrameMatcher,
        wait_s: float,
        *,
        until: ReplyComplete | None = None,
    ) -> list[Frame]:
        """Send ``frame``; return the frames ``matcher`` accepts once ``until`` says the reply
        is complete (by default: after the first one)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            waiter = _Waiter(matcher, until or _first_frame, [], loop.create_future())
            # Registered before writing: a fast reply must find its waiter.
            self._waiter = waiter
            try:
                self._write(frame)
                self.counters.requests += 1
                async with asyncio.timeout(wait_s):
                    return await waiter.future
            except TimeoutError:
                self.counters.timeouts += 1
                raise VebusTimeoutError(f"no reply to {frame.hex(' ')}") from None
            finally:
                self._waiter = None

    async def send(self, frame: bytes) -> None:
        """Send a frame that has no reply."""
        async with self._lock:
            self._write(frame)

    def _write(self, frame: bytes) -> None:
        transport = self._transport
        if transport is None or self.lost.is_set():
            raise VebusConnectionError(f"{self.url} is not open")
        transport.write(frame)
        self.counters.bytes_sent += len(frame)

    # --- receiving -----------------------------------------------------------------------------

    def handle_bytes(self, data: bytes) -> None:
        """Feed received bytes to the parser and route the frames."""
        loop = asyncio.get_running_loop()
        self.counters.bytes_received += len(data)
        self._route(self.parser.feed(data, loop.time()))
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if self.parser.pending:
            # If the line goes quiet mid-frame, the start was garbage: look again then.
            self._expiry = loop.call_later(INTER_BYTE_TIMEOUT_S + 0.01, self._expire)

    def _expire(self) -> None:
        self._expiry = None
        self._route(self.parser.expire(asyncio.get_running_loop().time()))

    def _route(self, frames: list[Frame]) -> None:
        for frame in frames:
            self.last_frame_at = asyncio.get_running_loop().time()
            waiter = self._waiter
            if waiter is not None and not waiter.future.done() and waiter.matcher(frame):
                waiter.frames.append(frame)
                if waiter.complete(waiter.frames):
                    waiter.future.set_result(list(waiter.frames))
                continue
            self.counters.unsolicited += 1
            if self._on_frame is not None:
                try:
                    self._on_frame(frame)
                except Exception:  # a bad listener must never stop the reader
                    _LOGGER.exception("Error handling an unsolicited frame")

    def handle_lost(self, exc: Exception | None) -> None:
        """The port went away (USB unplugged, ser2net connection dropped)."""
        self.lost.set()
        self._fail_waiter(VebusConnectionError(f"{self.url} went away: {exc or 'closed'}"))

    def _fail_waiter(self, error: Exception) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.future.done():
            waiter.future.set_exception(error)


def _first_frame(frames: list[Frame]) -> bool:
    return bool(frames)


def wire_seconds(byte_count: int, baudrate: int = BAUDRATE) -> float:
    """How long ``byte_count`` bytes take on the wire at 8N1."""
    return byte_count * BITS_PER_BYTE / baudrate
