"""Host connections (a TCP client like ser2net's, or a pseudo-terminal) and their traffic."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import os
import tty

from .wire import FrameParser


class Link:
    """One host connection: its own deframer and receive-wire clock."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parser = FrameParser()
        self.rx_free = 0.0
        self.open = True

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.open = False


class TcpLink(Link):
    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__(f"tcp {transport.get_extra_info('peername')}")
        self._transport = transport

    def send(self, data: bytes) -> None:
        if self.open and not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        super().close()
        self._transport.close()


class PtyLink(Link):
    """Master side of a pseudo-terminal; the host opens the slave path like a serial port."""

    def __init__(self, on_bytes: Callable[[Link, bytes], None]) -> None:
        self._master, self._slave = os.openpty()
        # Raw mode on the slave: no echo or line editing between the host and the "MK3".
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        super().__init__(f"pty {self.path}")
        self._on_bytes = on_bytes
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except OSError:
            return  # EAGAIN/EIO: nothing to read while no host has the slave open
        if data:
            self._on_bytes(self, data)

    def send(self, data: bytes) -> None:
        if not self.open:
            return
        # A full pty buffer means nobody reads: a UART would lose those bytes too.
        with contextlib.suppress(OSError):
            os.write(self._master, data)

    def close(self) -> None:
        if not self.open:
            return
        super().close()
        self._loop.remove_reader(self._master)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass(frozen=True, slots=True)
class Outgoing:
    data: bytes
    link: Link | None  # None: every open link (unsolicited traffic)
