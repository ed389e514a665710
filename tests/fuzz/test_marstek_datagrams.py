"""Property-based fuzzing of the Marstek datagram decoder, the result parsers and the
endpoint's routing: nothing raises, nothing absurd comes out, and a genuine reply among
garbage still reaches its request.
"""

from __future__ import annotations

import asyncio
import json
import math

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.vebus_marstek.marstek import messages
from custom_components.vebus_marstek.marstek.connection import MarstekEndpoint, _Pending
from custom_components.vebus_marstek.marstek.framing import (
    NotAReply,
    ResultReply,
    decode_reply,
)
from custom_components.vebus_marstek.marstek.profile import resolve_profile

from .conftest import EXAMPLES

FUZZ = settings(
    max_examples=5000,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
DECODER = "Marstek datagrams"

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=6,
)
# The field names the parsers read, so wrong types hit real code paths.
KNOWN_KEYS = sorted(
    {
        "bat_soc", "bat_cap", "pv_power", "ongrid_power", "offgrid_power", "bat_power",
        "total_pv_energy", "total_grid_output_energy", "total_grid_input_energy",
        "total_load_energy", "mode", "ct_state", "a_power", "b_power", "c_power",
        "total_power", "input_energy", "output_energy", "soc", "charg_flag", "dischrg_flag",
        "bat_temp", "bat_capacity", "rated_capacity", "bat_voltage", "bat_current", "ssid",
        "rssi", "sta_ip", "sta_gate", "sta_mask", "sta_dns", "wifi_mac", "state", "ble_mac",
        "device", "ver", "ip", "wifi_name", "pv1_power", "pv1_voltage", "pv1_current",
        "pv1_state", "pv2_power", "pv_state",
    }
)  # fmt: skip
results = st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=6), json_values)
PROFILES = [
    resolve_profile(device, ver)
    for device, ver in (
        ("VenusE", 153), ("VenusE", 156), ("VenusE 3.0", 139), ("VenusE 3.0", 150),
        ("Venus A", 147), ("VenusD", 151), ("Venus E mini", 301), ("Unknown", None),
    )
]  # fmt: skip


def _finite_or_none(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) < 1e10
    return True


@FUZZ
@given(payload=st.binary(max_size=300))
def test_random_bytes_are_not_replies_or_are_well_formed(payload: bytes) -> None:
    EXAMPLES[DECODER] += 1
    try:
        reply = decode_reply(payload)
    except NotAReply:
        return
    assert 0 <= reply.request_id <= 0xFFFF


@FUZZ
@given(message=json_values, request_id=st.integers(-5, 70_000) | json_scalars)
def test_random_json_is_decoded_or_rejected(message: object, request_id: object) -> None:
    EXAMPLES[DECODER] += 1
    if isinstance(message, dict):
        message = {**message, "id": request_id}
    payload = json.dumps(message, allow_nan=True).encode()
    try:
        reply = decode_reply(payload)
    except NotAReply:
        return
    assert 0 <= reply.request_id <= 0xFFFF


@FUZZ
@given(result=results, profile=st.sampled_from(PROFILES), src=st.none() | st.text(max_size=30))
def test_wrong_types_never_break_a_parser(result: dict[str, object], profile, src) -> None:
    """Nulls, huge numbers, floats for ints, strings for numbers: each field is None or sane."""
    EXAMPLES[DECODER] += 1
    parsed = [
        messages.parse_es_status(result, profile),
        messages.parse_es_status(result, profile, pv_channels_w=123.0),
        messages.parse_mode_status(result),
        messages.parse_meter_status(result),
        messages.parse_pv_status(result, profile),
        messages.parse_battery_status(result, profile),
        messages.parse_wifi_status(result),
        messages.parse_ble_status(result),
        messages.parse_device(result, src),
    ]
    for model in parsed:
        for value in vars(model).values():
            assert _finite_or_none(value)
    es = parsed[0]
    assert es.soc is None or 0 <= es.soc <= 100
    for energy in (es.total_grid_input_energy_wh, es.total_pv_energy_wh, es.remaining_capacity_wh):
        assert energy is None or energy >= 0


@FUZZ
@given(
    garbage=st.lists(
        st.tuples(st.sampled_from(["192.168.1.50", "192.168.1.66"]), st.binary(max_size=80)),
        max_size=6,
    ),
    forged=st.booleans(),
)
def test_a_genuine_reply_among_garbage_reaches_its_request(
    garbage: list[tuple[str, bytes]], forged: bool
) -> None:
    EXAMPLES[DECODER] += 1
    loop = asyncio.new_event_loop()
    try:
        endpoint = MarstekEndpoint(30000)
        future: asyncio.Future = loop.create_future()
        endpoint._pending[("192.168.1.50", 7)] = _Pending("192.168.1.50", "ES.GetStatus", future)
        if forged:  # another host answering in the battery's name
            endpoint.handle_datagram(b'{"id":7,"src":"x-1","result":{"bat_soc":1}}', "192.168.1.66")
        for host, payload in garbage:
            endpoint.handle_datagram(payload, host)
        genuine = b'{"id":7,"src":"VenusE-0123456789ab","result":{"bat_soc":55}}'
        endpoint.handle_datagram(genuine, "192.168.1.50")
        reply = future.result()
        assert isinstance(reply, ResultReply)
        assert reply.result == {"bat_soc": 55}
        assert endpoint.counters["ignored_foreign"] >= forged
    finally:
        loop.close()
