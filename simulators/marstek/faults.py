"""Misbehaviour a test can inject into the running simulator."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Faults:
    """Misbehaviour to inject; all fields may be changed while running."""

    latency: tuple[float, float] = (0.0, 0.0)  # uniform reply delay range, s
    spike_probability: float = 0.0  # chance of an extra spike_latency on a reply
    spike_latency: float = 1.2
    loss: float = 0.0  # chance a datagram is lost on the way in (not executed, no reply)
    reply_loss: float = 0.0  # chance a reply is lost after the request was executed
    duplicates: int = 0  # extra copies of every reply
    busy_next: int = 0  # next N requests: -32700/data 403 with id 0, not executed
    set_result_false_next: int = 0  # next N writes: set_result false, nothing changes
    silent: bool = False  # answer nothing at all
    # Methods this firmware never answers (ES.GetStatus on some Venus E 3.0 builds, B.6).
    unanswered_methods: frozenset[str] = frozenset()
    # The BMS is not talking: status replies report 0 % and 0 Wh stored (F item 16).
    bms_zeros: bool = False
    reply_only_to_api_port: bool = False  # ignore requests whose source port != API port
    reply_to_api_port: bool = False  # send replies to the API port instead of the source port
    broadcast_replies_to: str | None = None  # send replies to (this address, API port)
    late_reply_delay: float | None = None  # fixed reply delay replacing latency, s
    disable_after_requests: int | None = None  # the API switches itself off after N requests
    execute_but_drop_reply_next: int = 0  # next N requests: executed, reply lost
    freeze_on_empty_datagram: bool = False  # a 0-byte datagram switches the API off
