"""Replies that owners posted in public issue trackers, decoded with the real parsers.

Every file in ``tests/fixtures/marstek`` is one test: the verbatim reply goes through
``framing.decode_reply`` and the matching ``messages.parse_*`` with the profile that
``resolve_profile(device, firmware)`` picks, and every value in the fixture's ``expected``
(our models' field names and units; a nested model's fields as ``meter.total_power_w``) must
come out. A fixture with ``known_wrong`` records a
real reply that the client decodes wrongly today: its test is a strict xfail, so it turns
red (XPASS) as soon as the decoding is fixed and the mark can be removed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
import dataclasses
import json
from pathlib import Path

import pytest

from custom_components.vebus_marstek.marstek.framing import ErrorReply, JsonObject, decode_reply
from custom_components.vebus_marstek.marstek.messages import (
    Method,
    parse_battery_status,
    parse_device,
    parse_es_status,
    parse_meter_status,
    parse_mode_status,
    parse_pv_status,
)
from custom_components.vebus_marstek.marstek.profile import FirmwareProfile, resolve_profile

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "marstek"
REQUIRED_KEYS = frozenset(
    {
        "source",
        "posted",
        "author_says",
        "model",
        "device",
        "firmware",
        "method",
        "reply",
        "expected",
    }
)

type Fixture = dict[str, object]
type Parser = Callable[[JsonObject, FirmwareProfile], object]

PARSERS: dict[str, Parser] = {
    Method.BATTERY_STATUS: parse_battery_status,
    Method.ES_STATUS: lambda result, profile: parse_es_status(result, profile),
    Method.ES_MODE: lambda result, _profile: parse_mode_status(result),
    Method.METER_STATUS: lambda result, _profile: parse_meter_status(result),
    Method.PV_STATUS: parse_pv_status,
}


def _load(path: Path) -> Fixture:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: not a JSON object"
    return {str(key): value for key, value in data.items()}


def _fixture_files() -> list[Path]:
    return sorted(FIXTURE_DIR.glob("*.json"))


def _cases() -> list[object]:
    cases: list[object] = []
    for path in _fixture_files():
        wrong = _load(path).get("known_wrong")
        marks = [pytest.mark.xfail(strict=True, reason=wrong)] if isinstance(wrong, str) else []
        cases.append(pytest.param(path, id=path.stem, marks=marks))
    return cases


def _text(fixture: Fixture, key: str) -> str:
    value = fixture[key]
    assert isinstance(value, str), f"{key} must be a string"
    return value


def _payload(fixture: Fixture) -> bytes:
    """The datagram as the device sent it (debug-log reprs are turned back into JSON)."""
    reply = _text(fixture, "reply")
    if fixture.get("reply_format") == "python-repr":
        return json.dumps(ast.literal_eval(reply)).encode()
    return reply.encode()


def _decode(fixture: Fixture) -> dict[str, object]:
    """Field name -> value, as the client decodes the reply."""
    method = _text(fixture, "method")
    profile = resolve_profile(_text(fixture, "device"), fixture["firmware"])
    if fixture.get("result_only") is True:
        result = json.loads(_text(fixture, "reply"))
        assert isinstance(result, dict)
        src: str | None = None
    else:
        reply = decode_reply(_payload(fixture))
        if isinstance(reply, ErrorReply):
            return {
                "request_id": reply.request_id,
                "src": reply.src,
                "error_code": reply.code,
                "error_message": reply.message,
                "error_data": reply.data,
            }
        result, src = reply.result, reply.src
    if method == Method.GET_DEVICE:
        identity = parse_device(result, src)
        decoded = dataclasses.asdict(identity)
        decoded["family"] = resolve_profile(identity.device, identity.firmware).family.value
        return decoded
    assert method in PARSERS, f"no parser for {method}"
    parsed = PARSERS[method](result, profile)
    assert dataclasses.is_dataclass(parsed)
    assert not isinstance(parsed, type)
    return _flatten(dataclasses.asdict(parsed))


def _flatten(decoded: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """A nested model's fields (ES.GetMode's CT reading) as dotted names: ``meter.connected``."""
    flat: dict[str, object] = {}
    for key, value in decoded.items():
        if isinstance(value, Mapping):
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _matches(got: object, want: object) -> bool:
    if isinstance(want, Mapping):
        return got is not None and got == pytest.approx(want["approx"], abs=want["abs"])
    if isinstance(want, float):
        return got is not None and got == pytest.approx(want)
    return got == want


def test_fixture_directory_is_populated() -> None:
    assert _fixture_files(), f"no fixtures in {FIXTURE_DIR}"


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda path: path.stem)
def test_fixture_is_well_formed(path: Path) -> None:
    fixture = _load(path)
    missing = REQUIRED_KEYS - fixture.keys()
    assert not missing, f"missing {sorted(missing)}"
    assert _text(fixture, "source").startswith("https://github.com/")
    assert isinstance(fixture["expected"], dict)
    assert fixture["expected"], "nothing to check"


@pytest.mark.parametrize("path", _cases())
def test_real_reply_decodes_as_the_source_implies(path: Path) -> None:
    fixture = _load(path)
    decoded = _decode(fixture)
    expected = fixture["expected"]
    assert isinstance(expected, dict)
    unknown = sorted(set(expected) - decoded.keys())
    assert not unknown, f"expected names fields the decoder does not produce: {unknown}"
    wrong = [
        f"{field}: decoded {decoded[field]!r}, source implies {want!r}"
        for field, want in expected.items()
        if not _matches(decoded[field], want)
    ]
    assert not wrong, "; ".join(wrong)
