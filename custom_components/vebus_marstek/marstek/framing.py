"""Datagram framing: one compact JSON object per UDP datagram, in both directions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import json

type JsonObject = dict[str, object]

# The Wi-Fi module sends at most 1460 payload bytes; anything larger is not a reply.
MAX_DATAGRAM = 1460


def encode_request(request_id: int, method: str, params: Mapping[str, object]) -> bytes:
    """Serialise a request compactly; firmware drops spaced-out requests more often."""
    payload = json.dumps(
        {"id": request_id, "method": method, "params": dict(params)},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    if not payload:  # pragma: no cover - json.dumps never returns an empty string
        raise ValueError("refusing to send an empty datagram")
    return payload


@dataclass(frozen=True, slots=True)
class ResultReply:
    """A successful reply."""

    request_id: int
    src: str | None
    result: JsonObject


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """A reply carrying a JSON-RPC error object."""

    request_id: int
    src: str | None
    code: int
    message: str
    data: int | None


type Reply = ResultReply | ErrorReply


class NotAReply(Exception):
    """The datagram is not a reply: garbage, an echo of a request, or another protocol."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_reply(payload: bytes) -> Reply:
    """Parse a datagram into a reply, or raise :class:`NotAReply` saying why it is not one."""
    if not payload or len(payload) > MAX_DATAGRAM * 4:
        raise NotAReply("size")
    try:
        message: object = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise NotAReply("not_json") from None
    if not isinstance(message, dict):
        raise NotAReply("not_object")
    if "method" in message and "result" not in message and "error" not in message:
        raise NotAReply("echo")
    request_id = _as_request_id(message.get("id"))
    if request_id is None:
        raise NotAReply("no_id")
    src = message.get("src")
    src = src if isinstance(src, str) else None
    if isinstance(result := message.get("result"), dict):
        return ResultReply(request_id, src, {str(k): v for k, v in result.items()})
    if isinstance(error := message.get("error"), dict):
        code = error.get("code")
        if isinstance(code, int) and not isinstance(code, bool):
            text = error.get("message")
            data = error.get("data")
            return ErrorReply(
                request_id,
                src,
                code,
                text if isinstance(text, str) else "",
                data if isinstance(data, int) and not isinstance(data, bool) else None,
            )
    raise NotAReply("no_result")


def _as_request_id(value: object) -> int | None:
    """Ids are uint16 on the device; accept ints (and integral floats) in that range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= 0xFFFF:
        return value
    return None
