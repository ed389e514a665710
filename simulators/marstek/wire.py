"""The Open API on the wire: JSON-RPC-like datagrams, error codes, method names, parameters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import json
import math
import re
from typing import Final

type JsonValue = None | bool | int | float | str | list[JsonValue] | dict[str, JsonValue]
type JsonObject = dict[str, JsonValue]

DEFAULT_PORT: Final = 30000

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
# data member of the -32700 reply a VNSE3 sends while its CT mutex is held.
BUSY_DATA: Final = 403
# data member VNSE3 >= 150 adds to -32601 for PV.GetStatus.
PV_NOT_FOUND_DATA: Final = 424

ERROR_MESSAGES: Final[dict[int, str]] = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
}

BROADCAST_BLE_MAC: Final = "0"

_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Mode(StrEnum):
    """Operating modes as spelled on the wire."""

    AUTO = "Auto"
    AI = "AI"
    MANUAL = "Manual"
    PASSIVE = "Passive"
    UPS = "UPS"


MODE_NUMBERS: Final[dict[Mode, int]] = {
    Mode.AUTO: 0,
    Mode.AI: 1,
    Mode.MANUAL: 2,
    Mode.PASSIVE: 3,
    Mode.UPS: 4,
}

# ES.SetMode mode name -> (mode, name of its config object).  "Ups" is the spelling of the
# vendor PDF's table, "UPS" the one of its example; both are accepted.
SET_MODE_NAMES: Final[dict[str, tuple[Mode, str]]] = {
    "Auto": (Mode.AUTO, "auto_cfg"),
    "AI": (Mode.AI, "ai_cfg"),
    "Manual": (Mode.MANUAL, "manual_cfg"),
    "Passive": (Mode.PASSIVE, "passive_cfg"),
    "UPS": (Mode.UPS, "ups_cfg"),
    "Ups": (Mode.UPS, "ups_cfg"),
}

BASE_METHODS: Final = frozenset(
    {
        "Marstek.GetDevice",
        "Wifi.GetStatus",
        "BLE.GetStatus",
        "Bat.GetStatus",
        "ES.GetStatus",
        "ES.GetMode",
        "ES.SetMode",
    }
)
SYSTEM_METHODS: Final = frozenset({"DOD.SET", "Led.Ctrl", "Ble.Adv"})
WRITE_METHODS: Final = frozenset({"ES.SetMode", *SYSTEM_METHODS})
# Real methods the simulator records but never executes; a well-behaved client never sends them.
DANGEROUS_METHODS: Final = frozenset({"Reset.Factory", "Set.Ver", "Wifi.SetConfig"})


class RpcError(Exception):
    """A JSON-RPC error reply."""

    def __init__(self, code: int, data: int | None = None) -> None:
        super().__init__(ERROR_MESSAGES.get(code, "Server error"))
        self.code = code
        self.data = data

    def to_json(self) -> JsonObject:
        error: JsonObject = {"code": self.code, "message": ERROR_MESSAGES.get(self.code, "")}
        if self.data is not None:
            error["data"] = self.data
        return error


@dataclass(frozen=True, slots=True)
class RpcRequest:
    id: int | None
    method: str
    params: JsonValue


@dataclass(frozen=True, slots=True)
class MalformedDatagram:
    code: int
    id: int


class IgnoredDatagram:
    """A datagram that looks like a reply (own echo or another device)."""


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int_or_none(value: object) -> int | None:
    # bool is an int subclass but never a valid number here.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_datagram(data: bytes) -> RpcRequest | MalformedDatagram | IgnoredDatagram:
    """Classify one datagram the way the firmware's cJSON front end does."""
    try:
        decoded: object = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return MalformedDatagram(PARSE_ERROR, 0)
    if not isinstance(decoded, dict):
        return MalformedDatagram(INVALID_REQUEST, 0)
    method = decoded.get("method")
    if method is None and any(key in decoded for key in ("result", "error", "src")):
        return IgnoredDatagram()
    request_id = _int_or_none(decoded.get("id"))
    if not isinstance(method, str):
        return MalformedDatagram(INVALID_REQUEST, request_id or 0)
    params: JsonValue = decoded.get("params", {})
    return RpcRequest(request_id, method, params)


def encode_reply(
    request_id: int, src: str, *, result: JsonObject | None = None, error: RpcError | None = None
) -> bytes:
    """Compact JSON reply; the firmware keeps ids as uint16."""
    message: JsonObject = {"id": request_id & 0xFFFF, "src": src}
    if error is not None:
        message["error"] = error.to_json()
    else:
        message["result"] = result if result is not None else {}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def require_object(value: JsonValue) -> JsonObject:
    if not isinstance(value, dict):
        raise RpcError(INVALID_PARAMS)
    return value


def require_int(params: JsonObject, key: str, low: int, high: int) -> int:
    value = _int_or_none(params.get(key))
    if value is None or not low <= value <= high:
        raise RpcError(INVALID_PARAMS)
    return value


def require_number(params: JsonObject, key: str) -> float:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RpcError(INVALID_PARAMS)
    return float(value)


def require_hh_mm(params: JsonObject, key: str) -> int:
    value = params.get(key)
    match = _HH_MM.match(value) if isinstance(value, str) else None
    if match is None:
        raise RpcError(INVALID_PARAMS)
    return int(match.group(1)) * 60 + int(match.group(2))


def instance_id(params: JsonObject) -> int:
    return _int_or_none(params.get("id")) or 0
