"""The UDP endpoint: receiving datagrams, the faults on their way, and sending replies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
import socket
from typing import Self

from simulators.lifecycle import StopOnExit

from .core import SimulatorCore
from .records import ReceivedRequest, SimulatorCounters
from .wire import (
    BUSY_DATA,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    IgnoredDatagram,
    JsonObject,
    MalformedDatagram,
    RpcError,
    RpcRequest,
    encode_reply,
    parse_datagram,
)

# One logger for the whole simulator, named after the package its users import.
_LOGGER = logging.getLogger(__package__)


class _DatagramProtocol(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int]], None]) -> None:
        self._on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        host, port = addr[0], addr[1]
        if isinstance(host, str) and isinstance(port, int):
            self._on_datagram(data, (host, port))

    def error_received(self, exc: Exception) -> None:
        # ICMP errors from earlier replies must not stop the device.
        _LOGGER.debug("UDP error: %s", exc)


class Transport(SimulatorCore, StopOnExit):
    """Serves the simulator on its UDP endpoint, with the faults that hit traffic on the way."""

    requests: list[ReceivedRequest]
    counters: SimulatorCounters
    _transport: asyncio.DatagramTransport | None
    _pending_sends: set[asyncio.TimerHandle]
    _requests_answerable: int
    _disable_armed: tuple[int, int] | None
    _warned_self_addressed: bool

    # ----------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        return self._transport is not None

    async def start(self) -> None:
        if self._transport is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            # The client binds 0.0.0.0 on the same port; both sides need SO_REUSEADDR.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.setblocking(False)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _DatagramProtocol(self._on_datagram), sock=sock
        )
        self._transport = transport
        self._last_clock = self._clock()
        _LOGGER.debug(
            "%s (%s) listening on %s:%s", self.src, self.profile.name, self.host, self.port
        )

    async def stop(self) -> None:
        for handle in self._pending_sends:
            handle.cancel()
        self._pending_sends.clear()
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
            # Let the loop run the transport's close callbacks so the socket is really gone.
            await asyncio.sleep(0)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    # ----------------------------------------------------------------- datagram path

    def _on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        self.counters.datagrams_received += 1
        parsed = parse_datagram(data)
        if isinstance(parsed, IgnoredDatagram):
            self.counters.ignored_datagrams += 1
            return
        if isinstance(parsed, RpcRequest):
            # Recorded even when no answer follows: tests assert on what the client sent.
            self._record(parsed, addr)
        else:
            self.counters.invalid_datagrams += 1
        if not self._accepts_traffic(addr):
            return
        if not data and self.faults.freeze_on_empty_datagram:
            self.state.api_enabled = False
            return
        if isinstance(parsed, MalformedDatagram):
            if not self._lost_on_the_way_in():
                self._reply(addr, parsed.id, error=RpcError(parsed.code))
            return
        self._on_request(parsed, addr)

    def _record(self, request: RpcRequest, addr: tuple[str, int]) -> None:
        params = request.params if isinstance(request.params, dict) else {}
        self.requests.append(
            ReceivedRequest(request.method, params, request.id, addr, self._clock())
        )
        self.counters.requests_received += 1
        _LOGGER.debug("%s <- %s %s id=%s", self.src, request.method, params, request.id)
        if addr == (self.host, self.port) and not self._warned_self_addressed:
            # A client bound to 0.0.0.0:port on this host sends from host:port, so our replies
            # come back to this more specific socket instead of reaching the client.
            self._warned_self_addressed = True
            _LOGGER.warning(
                "%s: request from its own address %s:%s; replies will loop back to the "
                "simulator. Bind simulators to 127.0.0.2 and up instead",
                self.src,
                *addr,
            )

    def _accepts_traffic(self, addr: tuple[str, int]) -> bool:
        if self.faults.silent or not self.state.api_enabled:
            return False
        return not (self.faults.reply_only_to_api_port and addr[1] != self.port)

    def _lost_on_the_way_in(self) -> bool:
        return self.faults.loss > 0 and self._rng.random() < self.faults.loss

    def _on_request(self, request: RpcRequest, addr: tuple[str, int]) -> None:
        self._requests_answerable += 1
        if self._api_switches_itself_off():
            return
        if self._lost_on_the_way_in() or request.method in self.faults.unanswered_methods:
            return
        if self.faults.busy_next > 0:
            self.faults.busy_next -= 1
            self._reply(addr, 0, error=RpcError(PARSE_ERROR, BUSY_DATA))
            return
        if request.id is None:
            self._reply(addr, 0, error=RpcError(INVALID_REQUEST))
            return
        result, error = self._run(request)
        if self.faults.execute_but_drop_reply_next > 0:
            self.faults.execute_but_drop_reply_next -= 1
            self.counters.replies_dropped += 1
            return
        if error is not None:
            if error.code == METHOD_NOT_FOUND and self.profile.silent_on_unknown:
                return
            self._reply(addr, request.id, error=error)
        elif result is not None:
            self._reply(addr, request.id, result=result)

    def _api_switches_itself_off(self) -> bool:
        """Apply Faults.disable_after_requests, counted from when it was (re)set."""
        limit = self.faults.disable_after_requests
        if limit is None:
            self._disable_armed = None
            return False
        if self._disable_armed is None or self._disable_armed[0] != limit:
            self._disable_armed = (limit, self._requests_answerable - 1)
        if self._requests_answerable - self._disable_armed[1] > limit:
            self.state.api_enabled = False
            return True
        return False

    def _reply(
        self,
        addr: tuple[str, int],
        request_id: int,
        *,
        result: JsonObject | None = None,
        error: RpcError | None = None,
    ) -> None:
        self.counters.responses += 1
        if error is not None:
            self.counters.error_responses += 1
        if self.faults.reply_loss > 0 and self._rng.random() < self.faults.reply_loss:
            self.counters.replies_dropped += 1
            return
        payload = encode_reply(request_id, self.src, result=result, error=error)
        destination = self._reply_destination(addr)
        delay = self._reply_delay()
        for _ in range(1 + max(self.faults.duplicates, 0)):
            self._send_later(payload, destination, delay)

    def _reply_destination(self, addr: tuple[str, int]) -> tuple[str, int]:
        if self.faults.broadcast_replies_to is not None:
            return (self.faults.broadcast_replies_to, self.port)
        if self.faults.reply_to_api_port:
            return (addr[0], self.port)
        return addr

    def _reply_delay(self) -> float:
        faults = self.faults
        if faults.late_reply_delay is not None:
            return faults.late_reply_delay
        low, high = faults.latency
        delay = self._rng.uniform(low, high) if high > 0 else max(low, 0.0)
        if faults.spike_probability > 0 and self._rng.random() < faults.spike_probability:
            delay += faults.spike_latency
        return delay

    def _send_later(self, payload: bytes, destination: tuple[str, int], delay: float) -> None:
        if delay <= 0:
            self._send_now(payload, destination, None)
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            self._send_now(payload, destination, handle)

        handle = loop.call_later(delay, fire)
        self._pending_sends.add(handle)

    def _send_now(
        self, payload: bytes, destination: tuple[str, int], handle: asyncio.TimerHandle | None
    ) -> None:
        if handle is not None:
            self._pending_sends.discard(handle)
        if self._transport is None:
            return
        self._transport.sendto(payload, destination)
        self.counters.replies_sent += 1
