"""What the VE.Bus client asks of serialx, on whichever serialx version is installed.

``scripts/test serialx`` runs these (and the rest of tests/vebus) on the oldest serialx that
manifest.json allows, with ``SERIALX_EXPECTED`` naming it.
"""

from __future__ import annotations

from importlib import metadata
import os

import pytest
import serialx

from custom_components.vebus_marstek.vebus import VebusConnectionError
from custom_components.vebus_marstek.vebus.connection import VebusConnection
from custom_components.vebus_marstek.vebus.ports import list_ports


def test_the_serialx_under_test_is_the_one_asked_for() -> None:
    expected = os.environ.get("SERIALX_EXPECTED")
    if expected is None:
        pytest.skip("only in scripts/test serialx")
    assert metadata.version("serialx") == expected
    assert serialx.__file__ is not None


def test_port_listing_gives_string_paths() -> None:
    # Paths end up in the config entry; serialx before 1.2.1 listed pathlib.Path objects.
    for port in list_ports():
        assert isinstance(port.device, str)
        assert isinstance(port.path, str)


@pytest.mark.parametrize(
    "url", ["socket://127.0.0.1:9", "rfc2217://127.0.0.1:9", "/dev/ttyVEBUS-missing"]
)
async def test_every_kind_of_port_is_understood_and_a_dead_one_is_a_clean_error(
    url: str, socket_enabled: None
) -> None:
    connection = VebusConnection(url)
    with pytest.raises(VebusConnectionError, match="cannot open"):
        await connection.open()
    assert not connection.is_open


async def test_an_esphome_proxy_without_its_library_is_a_clean_error(
    socket_enabled: None,
) -> None:
    # With aioesphomeapi installed the connection is refused instead; either way a clean error.
    connection = VebusConnection("esphome://127.0.0.1:9/?port_name=mk3")
    with pytest.raises(VebusConnectionError, match="cannot open"):
        await connection.open()
