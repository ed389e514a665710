"""Serving the host: TCP and pty transports, baud-rate pacing, latencies, unsolicited frames."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import contextlib
from dataclasses import dataclass
import logging
import time
from typing import Final

from simulators.lifecycle import StopOnExit

from .core import SimulatorCore
from .links import Link, Outgoing, PtyLink, TcpLink
from .records import ReceivedFrame
from .wire import FRAME_MK2, FRAME_RAW_BUS, WINMON_LETTERS, ParsedFrame, Winmon, encode_frame

# One logger for the whole simulator, named after the package its users import.
_LOGGER = logging.getLogger(__package__)

BYTE_BITS: Final = 10  # 8N1
HOUSEKEEPING_S: Final = 0.05
VERSION_QUIET_S: Final = 1.0
RAW_FRAME_INTERVAL_S: Final = (1.0, 4.0)

_WINMON_NAMES: Final = {code.value: code.name.lower() for code in Winmon}


@dataclass(frozen=True, slots=True)
class Latencies:
    """Processing delay between a request's last byte and its reply's first byte."""

    default: float = 0.02
    f5: float = 0.3
    address_version: float = 0.03

    def for_request(self, command: str | None, args: bytes) -> float:
        if command in ("A", "V"):
            return self.address_version
        if command == "F" and args[:1] == b"\x05":
            return self.f5
        return self.default


@dataclass(frozen=True, slots=True)
class _Request:
    frame: ParsedFrame
    link: Link | None
    ready_at: float  # when its last byte has crossed the 2400-baud wire


class _TcpProtocol(asyncio.Protocol):
    def __init__(self, sim: Transport) -> None:
        self._sim = sim
        self._link: TcpLink | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._link = TcpLink(transport)
        self._sim._attach(self._link, exclusive=TcpLink)

    def data_received(self, data: bytes) -> None:
        if self._link is not None and self._link.open:
            self._sim._on_bytes(self._link, data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._link is not None:
            self._link.open = False
            self._sim._detach(self._link)


class Transport(SimulatorCore, StopOnExit):
    """The simulator's end of the line: host links, request and transmit queues, housekeeping."""

    baud: int
    pace: bool
    latencies: Latencies
    version_frames: bool
    version_interval_s: float
    frames_received: list[ReceivedFrame]
    url: str | None
    pty_path: str | None
    _links: list[Link]
    _server: asyncio.Server | None
    _tasks: list[asyncio.Task[None]]
    _requests: asyncio.Queue[_Request] | None
    _busy: bool
    _tx_free: float
    _last_host_byte: float
    _last_version: float
    _next_raw_frame: float

    # ----------------------------------------------------------------- lifecycle

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen like ser2net; returns "socket://HOST:PORT".  A new client replaces the old."""
        if self._server is not None:
            raise RuntimeError("TCP transport already started")
        self._ensure_tasks()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _TcpProtocol(self), host, port)
        bound_port = self._server.sockets[0].getsockname()[1]
        self.url = f"socket://{host}:{bound_port}"
        return self.url

    async def start_pty(self) -> str:
        """Open a pseudo-terminal; returns the slave device path the host opens."""
        self._ensure_tasks()
        link = PtyLink(self._on_bytes)
        self._attach(link, exclusive=PtyLink)
        self.pty_path = link.path
        return link.path

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._disconnect_links()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _ensure_tasks(self) -> None:
        if self._tasks:
            return
        self._requests = asyncio.Queue()
        self._tx = asyncio.Queue()
        self._tasks = [
            asyncio.create_task(self._serve_requests(), name="vebus-sim-requests"),
            asyncio.create_task(self._transmit(), name="vebus-sim-transmit"),
            asyncio.create_task(self._housekeeping(), name="vebus-sim-housekeeping"),
        ]

    def _attach(self, link: Link, *, exclusive: type[Link]) -> None:
        for old in [other for other in self._links if isinstance(other, exclusive)]:
            old.close()
            self._links.remove(old)
        self._links.append(link)

    def _detach(self, link: Link) -> None:
        if link in self._links:
            self._links.remove(link)

    def _disconnect_links(self) -> None:
        for link in self._links:
            link.close()
        self._links.clear()

    def wire_seconds(self, byte_count: int) -> float:
        """Time `byte_count` bytes take on the wire at the configured baud rate."""
        return byte_count * BYTE_BITS / self.baud

    # ----------------------------------------------------------------- receive path

    def _on_bytes(self, link: Link, data: bytes) -> None:
        now = time.monotonic()
        self.counters.bytes_received += len(data)
        self._last_host_byte = now
        before = link.parser.discarded
        for byte in data:
            arrival = self._arrival(link, now)
            for frame in link.parser.feed(bytes([byte]), arrival):
                assert self._requests is not None
                self._requests.put_nowait(_Request(frame, link, arrival))
        self.counters.garbage_bytes += link.parser.discarded - before

    def _arrival(self, link: Link, now: float) -> float:
        """When a byte has fully crossed the wire: bytes queue behind each other at the baud."""
        if not self.pace:
            return now
        link.rx_free = max(now, link.rx_free) + self.wire_seconds(1)
        return link.rx_free

    async def _serve_requests(self) -> None:
        assert self._requests is not None
        while True:
            request = await self._requests.get()
            self._busy = True
            try:
                await _sleep_until(request.ready_at)
                await self._process(request)
            except Exception:
                _LOGGER.exception("simulator failed on %s", request.frame.raw.hex(" "))
            finally:
                self._busy = False

    async def _process(self, request: _Request) -> None:
        received = self._record(request.frame)
        if self.faults.asleep or request.ready_at < self._deaf_until:
            return
        self._sync()
        outputs = self._dispatch(request.frame)
        if not outputs:
            return
        if self.faults.drop_next > 0:
            self.faults.drop_next -= 1
            return
        latency = self.latencies.for_request(received.command, received.args)
        self.counters.latency_total_s += latency
        if latency > 0:
            await asyncio.sleep(latency)
        if self._silent():
            return
        for out in outputs:
            self._queue_frame(self._encode(out), request.link, reply=True)

    def _silent(self) -> bool:
        # A method rather than the attribute: it may change while a coroutine awaits.
        return self.faults.asleep

    def _record(self, frame: ParsedFrame) -> ReceivedFrame:
        command: str | None = None
        winmon: int | None = None
        args = frame.body
        if frame.frame_type == FRAME_MK2 and frame.body:
            command = chr(frame.body[0])
            args = frame.body[1:]
            if frame.body[0] in WINMON_LETTERS and args:
                winmon, args = args[0], args[1:]
        received = ReceivedFrame(
            raw=frame.raw,
            frame_type=frame.frame_type,
            command=command,
            winmon=winmon,
            winmon_name=None if winmon is None else _WINMON_NAMES.get(winmon, "unknown"),
            args=args,
            time=self._clock(),
        )
        self.frames_received.append(received)
        self.counters.frames_received += 1
        return received

    # ----------------------------------------------------------------- transmit path

    async def _transmit(self) -> None:
        assert self._tx is not None
        while True:
            outgoing = await self._tx.get()
            try:
                await self._write(outgoing)
            except Exception:
                _LOGGER.exception("simulator failed to send %s", outgoing.data.hex(" "))

    async def _write(self, outgoing: Outgoing) -> None:
        targets = [outgoing.link] if outgoing.link is not None else list(self._links)
        if self.faults.asleep:
            return
        if not self.pace:
            self._send(targets, outgoing.data)
            return
        byte_time = self.wire_seconds(1)
        start = max(time.monotonic(), self._tx_free)
        self._tx_free = start + len(outgoing.data) * byte_time
        pending = bytearray()
        for index, byte in enumerate(outgoing.data):
            due = start + (index + 1) * byte_time
            if due > time.monotonic():
                self._send(targets, bytes(pending))
                pending.clear()
                await _sleep_until(due)
            if self._silent():
                return
            pending.append(byte)
        self._send(targets, bytes(pending))

    def _send(self, targets: Sequence[Link], data: bytes) -> None:
        if not data:
            return
        for link in targets:
            link.send(data)
        self.counters.bytes_sent += len(data)

    # ----------------------------------------------------------------- unsolicited traffic

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            try:
                self._tick()
            except Exception:
                _LOGGER.exception("simulator housekeeping failed")

    def _tick(self) -> None:
        self._sync()
        if self.faults.asleep or not self._links:
            return
        now = time.monotonic()
        if now < self._deaf_until:
            return
        if self._version_after_reset or (
            self.version_frames
            and self._idle(now)
            and now - self._last_version >= self.version_interval_s
        ):
            self._version_after_reset = False
            self._last_version = now
            self._queue_frame(self._encode(self._version_frame()), None, reply=False)
        if self.faults.unsolicited_vebus_frames and now >= self._next_raw_frame:
            self._next_raw_frame = now + self._rng.uniform(*RAW_FRAME_INTERVAL_S)
            payload = bytes(self._rng.randrange(256) for _ in range(5))
            self._queue_frame(encode_frame(FRAME_RAW_BUS, payload), None, reply=False)

    def _idle(self, now: float) -> bool:
        """Nothing in flight and the host has been quiet for a while (reference A.3)."""
        assert self._requests is not None
        assert self._tx is not None
        return (
            not self._busy
            and self._requests.empty()
            and self._tx.empty()
            and now >= self._tx_free
            and now - self._last_host_byte >= VERSION_QUIET_S
        )


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
