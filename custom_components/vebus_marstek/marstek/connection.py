"""The shared UDP endpoint: one socket per Open API port per process.

Some firmware only answers datagrams that come *from* its API port, so every request is
sent from a socket bound to ``0.0.0.0:<port>``. A second socket on the same port would
receive some of the replies in our place, so all devices on a port share this one socket
and replies are told apart by (source IP, request id).
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
import errno
import logging
import socket
import weakref

from .errors import MarstekClosedError, MarstekPortInUseError
from .framing import ErrorReply, NotAReply, Reply, decode_reply, encode_request

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 30000
# Replies to finished requests that we still recognise as duplicates or late arrivals.
_RECENT_LIMIT = 256

type DiscoveryListener = Callable[[str, Reply], None]


@dataclass(slots=True)
class _Pending:
    host: str
    method: str
    future: asyncio.Future[Reply]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, endpoint: MarstekEndpoint) -> None:
        self._endpoint = endpoint

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        host = addr[0]
        if isinstance(host, str):
            self._endpoint.handle_datagram(data, host)

    def error_received(self, exc: Exception) -> None:
        # ICMP port-unreachable and friends: the request simply times out.
        _LOGGER.debug("UDP error on port %s: %s", self._endpoint.port, exc)


class MarstekEndpoint:
    """A UDP socket bound to an API port, matching replies to requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: dict[tuple[str, int], _Pending] = {}
        self._recent: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._next_id = 1
        self._discovery: dict[int, DiscoveryListener] = {}
        self.counters: Counter[str] = Counter()
        self._users = 0

    # --- lifecycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        """Bind the socket, or raise :class:`MarstekPortInUseError`."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            # SO_REUSEADDR only: SO_REUSEPORT would let another process share the port
            # silently and take some of our replies; a clear "port in use" is better.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.bind(("0.0.0.0", self.port))  # replies come from the LAN
        except OSError as err:
            sock.close()
            if err.errno in (errno.EADDRINUSE, errno.EACCES):
                raise MarstekPortInUseError(self.port) from err
            raise
        sock.setblocking(False)
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)
        self._transport = transport

    def close(self) -> None:
        """Close the socket and fail every pending request."""
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.cancel()
        self._pending.clear()
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    @property
    def is_open(self) -> bool:
        """Whether the socket is bound."""
        return self._transport is not None

    # --- sending --------------------------------------------------------------------------------

    def _allocate_id(self, host: str) -> int:
        """The next uint16 id (1..65535) not pending for this host; 0 means "parse error"."""
        for _ in range(0xFFFF):
            request_id = self._next_id
            self._next_id = self._next_id % 0xFFFF + 1
            if (host, request_id) not in self._pending and request_id not in self._discovery:
                return request_id
        raise RuntimeError("every request id is in use")  # pragma: no cover

    async def request(
        self, host: str, method: str, params: Mapping[str, object], wait_s: float
    ) -> Reply:
        """Send one request and wait for its reply; raises ``TimeoutError`` on silence."""
        if self._transport is None:
            raise MarstekClosedError(host, self.port, method)
        transport = self._transport
        request_id = self._allocate_id(host)
        key = (host, request_id)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        # Registered before sending, so even an instant reply finds its waiter.
        self._pending[key] = _Pending(host, method, future)
        try:
            transport.sendto(encode_request(request_id, method, params), (host, self.port))
            self.counters["sent"] += 1
            async with asyncio.timeout(wait_s):
                return await future
        finally:
            self._pending.pop(key, None)
            self._remember(key)

    def broadcast(
        self, targets: list[str], method: str, params: Mapping[str, object], request_id: int
    ) -> None:
        """Send one request to several (broadcast) addresses; replies go to a listener."""
        transport = self._require_transport()
        payload = encode_request(request_id, method, params)
        for target in targets:
            try:
                transport.sendto(payload, (target, self.port))
                self.counters["broadcast"] += 1
            except OSError as err:
                _LOGGER.debug("Cannot broadcast to %s:%s: %s", target, self.port, err)

    def add_discovery_listener(self, listener: DiscoveryListener) -> int:
        """Accept replies from any address to a fresh request id; returns that id."""
        request_id = self._allocate_id("")
        self._discovery[request_id] = listener
        return request_id

    def remove_discovery_listener(self, request_id: int) -> None:
        """Stop accepting replies for a discovery id."""
        self._discovery.pop(request_id, None)

    def _require_transport(self) -> asyncio.DatagramTransport:
        if self._transport is None:
            raise RuntimeError(f"the endpoint on port {self.port} is closed")
        return self._transport

    def _remember(self, key: tuple[str, int]) -> None:
        self._recent[key] = None
        while len(self._recent) > _RECENT_LIMIT:
            self._recent.popitem(last=False)

    # --- receiving -----------------------------------------------------------------------------

    def handle_datagram(self, data: bytes, host: str) -> None:
        """Route one datagram; anything that is not an expected reply is counted and dropped."""
        try:
            reply = decode_reply(data)
        except NotAReply as err:
            self.counters[f"ignored_{err.reason}"] += 1
            return
        if reply.request_id in self._discovery:
            self._discovery[reply.request_id](host, reply)
            return
        key = (host, reply.request_id)
        pending = self._pending.get(key)
        if pending is None and isinstance(reply, ErrorReply) and reply.request_id == 0:
            pending = self._only_pending_for(host)
        if pending is not None and not pending.future.done():
            self.counters["replies"] += 1
            pending.future.set_result(reply)
            return
        if key in self._recent or pending is not None:
            self.counters["ignored_duplicate_or_late"] += 1
        elif any(p.host == host for p in self._pending.values()):
            self.counters["ignored_unknown_id"] += 1
        else:
            self.counters["ignored_foreign"] += 1
            _LOGGER.debug("Dropped a datagram from %s, which was not asked anything", host)

    def _only_pending_for(self, host: str) -> _Pending | None:
        """A parse-error reply carries id 0; it belongs to the request in flight to its host."""
        candidates = [p for p in self._pending.values() if p.host == host]
        return candidates[0] if len(candidates) == 1 else None

    # --- sharing -------------------------------------------------------------------------------

    def _retain(self) -> None:
        self._users += 1

    def _release(self) -> bool:
        self._users -= 1
        return self._users <= 0


class _Registry:
    """Endpoints and the lock that guards them, for one event loop."""

    def __init__(self) -> None:
        self.endpoints: dict[int, MarstekEndpoint] = {}
        self.lock = asyncio.Lock()


_REGISTRIES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Registry] = (
    weakref.WeakKeyDictionary()
)


def _registry() -> _Registry:
    loop = asyncio.get_running_loop()
    registry = _REGISTRIES.get(loop)
    if registry is None:
        registry = _REGISTRIES[loop] = _Registry()
    return registry


async def acquire_endpoint(port: int = DEFAULT_PORT) -> MarstekEndpoint:
    """The endpoint for ``port`` in this event loop, bound on first use."""
    registry = _registry()
    async with registry.lock:
        endpoint = registry.endpoints.get(port)
        if endpoint is None or not endpoint.is_open:
            endpoint = MarstekEndpoint(port)
            await endpoint.open()
            registry.endpoints[port] = endpoint
        endpoint._retain()
        return endpoint


async def release_endpoint(endpoint: MarstekEndpoint) -> None:
    """Give an endpoint back; the last user closes the socket."""
    registry = _registry()
    async with registry.lock:
        if endpoint._release():
            endpoint.close()
            if registry.endpoints.get(endpoint.port) is endpoint:
                del registry.endpoints[endpoint.port]
