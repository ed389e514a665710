"""Datagram framing: what goes on the wire and which datagrams count as replies."""

from __future__ import annotations

import pytest

from custom_components.vebus_marstek.marstek.framing import (
    ErrorReply,
    NotAReply,
    ResultReply,
    decode_reply,
    encode_request,
)


def test_requests_are_compact_json_with_integer_ids() -> None:
    """Spaces make some firmware drop requests; ids must be integers (fw 139 ignores strings)."""
    assert encode_request(436, "ES.GetStatus", {"id": 0}) == (
        b'{"id":436,"method":"ES.GetStatus","params":{"id":0}}'
    )


def test_result_reply_from_reference_fixture() -> None:
    """Fixture 5 of the reference: the E mini acknowledges a Manual write."""
    reply = decode_reply(
        b'{"id": 105, "src": "VNSEM-0-ccc837b3a39f", "result": {"id": 0, "set_result": true}}'
    )
    assert reply == ResultReply(105, "VNSEM-0-ccc837b3a39f", {"id": 0, "set_result": True})


def test_error_reply_keeps_code_message_and_data() -> None:
    reply = decode_reply(
        b'{"id":7,"src":"VenusE 3.0-5037cd7f1ec6","error":'
        b'{"code":-32601,"message":"Method not found","data":424}}'
    )
    assert reply == ErrorReply(7, "VenusE 3.0-5037cd7f1ec6", -32601, "Method not found", 424)


def test_busy_reply_has_id_zero() -> None:
    reply = decode_reply(b'{"id":0,"src":"x-1","error":{"code":-32700,"message":"Parse error"}}')
    assert isinstance(reply, ErrorReply)
    assert reply.request_id == 0
    assert reply.data is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "size"),
        (b"\xff\xfe garbage", "not_json"),
        (b"{not json", "not_json"),
        (b"[1, 2, 3]", "not_object"),
        (b'"text"', "not_object"),
        # Our own broadcast coming back: it has a method and nothing of a reply.
        (b'{"id":3,"method":"Marstek.GetDevice","params":{"ble_mac":"0"}}', "echo"),
        (b'{"id":"3","result":{}}', "no_id"),
        (b'{"id":70000,"result":{}}', "no_id"),
        (b'{"id":true,"result":{}}', "no_id"),
        (b'{"id":3,"result":[1]}', "no_result"),
        (b'{"id":3,"error":{"code":"x"}}', "no_result"),
        (b'{"id":3}', "no_result"),
        (b"[" * 2000 + b"]" * 2000, "not_object"),  # deep nesting must not crash
    ],
    ids=lambda value: value[:24].decode(errors="replace") if isinstance(value, bytes) else value,
)
def test_datagrams_that_are_not_replies(payload: bytes, reason: str) -> None:
    with pytest.raises(NotAReply) as raised:
        decode_reply(payload)
    assert raised.value.reason == reason


def test_integral_float_id_is_accepted() -> None:
    reply = decode_reply(b'{"id":12.0,"result":{"a":1}}')
    assert reply.request_id == 12
    assert reply.src is None
