"""The hass process of the demo and the tests cannot send anything off this machine."""

from __future__ import annotations

import subprocess
import sys

from e2e.hass_process import LOOPBACK_HASS

# Run in a child: the guard patches the socket module of the process it is loaded in.
PROBE = """
import errno, runpy, socket
runpy.run_path({path!r})["confine_to_loopback"]()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
try:
    udp.sendto(b"x", ("255.255.255.255", 9))
except OSError as err:
    assert err.errno == errno.ENETUNREACH, err
else:
    raise AssertionError("a broadcast got out")
udp.sendto(b"x", ("127.0.0.1", 9))  # loopback is fine
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
assert tcp.connect_ex(("192.0.2.1", 80)) == errno.ENETUNREACH
print("confined")
"""


def test_hass_traffic_is_confined_to_loopback() -> None:
    probe = PROBE.format(path=str(LOOPBACK_HASS))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "confined"
