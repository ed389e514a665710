"""What the simulator records of the requests it received."""

from __future__ import annotations

from dataclasses import dataclass

from .wire import JsonObject


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """A datagram that carried a string `method` (recorded before any fault applies)."""

    method: str
    params: JsonObject
    id: int | None  # None when the request's id was missing or not an integer
    addr: tuple[str, int]
    at: float  # simulator clock


@dataclass(slots=True)
class SimulatorCounters:
    datagrams_received: int = 0
    requests_received: int = 0
    invalid_datagrams: int = 0  # not JSON, not an object, or without a string method
    ignored_datagrams: int = 0  # reply-shaped datagrams
    responses: int = 0  # logical replies scheduled (results and errors)
    error_responses: int = 0
    replies_sent: int = 0  # datagrams actually sent, duplicates included
    replies_dropped: int = 0  # replies suppressed by faults
