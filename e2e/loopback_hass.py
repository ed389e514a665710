"""`hass` with everything it sends confined to loopback: run as ``python loopback_hass.py ARGS``.

The demo and the end-to-end tests run a real Home Assistant, and on these machines traffic may
only go to loopback. Home Assistant and this integration reach out on their own: the battery
discovery broadcasts to 255.255.255.255 a minute after start, and that address leaves through
the default interface. So before Home Assistant's own ``main()`` runs, datagrams and TCP
connections to anything outside 127.0.0.0/8 and ::1 fail with ENETUNREACH, which is what an
unplugged network cable says and what the code already handles.

Run as a script, not as a module of the repository: the repository root must not come first on
``sys.path``, or its ``custom_components`` package would shadow the configuration's.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
from typing import Any

_sendto = socket.socket.sendto
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _leaves_machine(address: object) -> bool:
    """Whether an (IPv4 or IPv6) socket address is outside loopback; paths never are."""
    if not isinstance(address, tuple) or not address or not isinstance(address[0], str):
        return False
    host = address[0].split("%", 1)[0]
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host != "localhost"


def _refuse(address: object) -> OSError:
    return OSError(errno.ENETUNREACH, f"only loopback is reachable in this run, not {address}")


def _sendto_loopback(self: socket.socket, data: Any, *flags_and_address: Any) -> int:
    address = flags_and_address[-1]
    if _leaves_machine(address):
        raise _refuse(address)
    return _sendto(self, data, *flags_and_address)


def _connect_loopback(self: socket.socket, address: Any) -> None:
    # A UDP connect sends nothing (Home Assistant uses one to find its own address).
    if self.type == socket.SOCK_STREAM and _leaves_machine(address):
        raise _refuse(address)
    _connect(self, address)


def _connect_ex_loopback(self: socket.socket, address: Any) -> int:
    if self.type == socket.SOCK_STREAM and _leaves_machine(address):
        return errno.ENETUNREACH
    return _connect_ex(self, address)


def confine_to_loopback() -> None:
    """From now on, in this process, only loopback can be sent to or connected to over TCP."""
    socket.socket.sendto = _sendto_loopback  # type: ignore[assignment,method-assign]
    socket.socket.connect = _connect_loopback  # type: ignore[assignment,method-assign]
    socket.socket.connect_ex = _connect_ex_loopback  # type: ignore[assignment,method-assign]


if __name__ == "__main__":
    confine_to_loopback()
    from homeassistant.__main__ import main

    sys.exit(main())
