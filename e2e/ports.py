"""Free ports on this machine, so a demo and a test run (or two) never collide."""

from __future__ import annotations

import socket


def free_tcp_port(preferred: int | None = None, host: str = "127.0.0.1") -> int:
    """``preferred`` when nobody listens on it, else a TCP port the kernel picks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As Home Assistant's server does: a closed connection lingering on the port is no
        # reason to move, only a listener is.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, preferred or 0))
        except OSError:
            sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def udp_port_free(port: int) -> bool:
    """Whether no socket on this machine uses this UDP port, on any address.

    Binding the wildcard address without SO_REUSEADDR fails as soon as anything holds the port,
    including Home Assistant's Marstek endpoint or a simulator on 127.0.0.x.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def free_udp_port(preferred: int | None = None) -> int:
    """``preferred`` when it is free, else a UDP port the kernel picks."""
    if preferred is not None and udp_port_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", 0))
        port: int = sock.getsockname()[1]
        return port
