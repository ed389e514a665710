"""What every part of `VebusSimulator` shares: its state, its clock, its frames to the host."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import random
from typing import Final, NamedTuple

from .faults import Faults
from .links import Link, Outgoing
from .models import VebusModel
from .plant import SLEEP_AFTER_S, Plant
from .records import Counters, Mk3State
from .wire import (
    FRAME_BOOT,
    FRAME_INFO,
    FRAME_MASTER_LED,
    FRAME_MK2,
    NO_ADDRESS,
    S_APPEND_LEDS,
    ParsedFrame,
    encode_frame,
)

# Frames the interface itself builds; only these get the LED bytes appended.
_LED_CAPABLE_TYPES: Final = frozenset({FRAME_MK2, FRAME_INFO, FRAME_MASTER_LED})


class OutFrame(NamedTuple):
    """A frame to send, before LED bytes and checksum are added."""

    frame_type: int
    body: bytes


class SimulatorCore:
    """The state the transport and the command handlers of `VebusSimulator` work on.

    They are mixins over this class, and `VebusSimulator.__init__` sets what it declares, so
    every part sees the one simulator.
    """

    model: VebusModel
    phases: int
    interface_version: int
    auto_sleep: bool
    faults: Faults
    counters: Counters
    dangerous: list[str]
    _clock: Callable[[], float]
    _last_clock: float
    _rng: random.Random
    _plant: Plant
    _mk3: Mk3State
    _auto_asleep: bool
    _tx: asyncio.Queue[Outgoing] | None
    _deaf_until: float
    _version_after_reset: bool

    def _dispatch(self, frame: ParsedFrame) -> list[OutFrame]:
        """The replies to one frame from the host (`Mk2Commands` answers)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- time and resets

    def _sync(self) -> None:
        now = self._clock()
        elapsed = now - self._last_clock
        self._last_clock = now
        if elapsed > 0:
            self._plant.run(elapsed)
        self._check_sleep()

    def _check_sleep(self) -> None:
        """A switched-off unit without AC or standby line goes to sleep and takes the MK3 along."""
        plant = self._plant
        if self._auto_asleep and plant.env.grid_available:
            self._auto_asleep = False
            self.faults.asleep = False
        elif self.auto_sleep and not self.faults.asleep and plant.unattended_off >= SLEEP_AFTER_S:
            self._auto_asleep = True
            self.faults.asleep = True

    def _unit_reset(self) -> None:
        self._sync()
        self._plant.reboot()
        self._mk3.address = None
        self._mk3.pending_write = None
        if not self.faults.asleep:
            self._queue_frame(encode_frame(FRAME_BOOT, bytes(4)), None, reply=False)

    # ----------------------------------------------------------------- frames to the host

    def _version_frame(self) -> OutFrame:
        trailing = NO_ADDRESS if self._mk3.address is None else self._mk3.address
        body = b"V" + self.interface_version.to_bytes(4, "little") + bytes([trailing])
        return OutFrame(FRAME_MK2, body)

    def _encode(self, out: OutFrame) -> bytes:
        leds = None
        if self._mk3.flags & S_APPEND_LEDS and out.frame_type in _LED_CAPABLE_TYPES:
            truth = self._plant.truth()
            leds = (truth.led_on, truth.led_blink)
        return encode_frame(out.frame_type, out.body, leds)

    def _queue_frame(self, frame: bytes, link: Link | None, *, reply: bool) -> None:
        if self._tx is None:
            return
        faults = self.faults
        chunk = bytearray()
        if reply and faults.garbage_next:
            chunk += faults.garbage_next
            faults.garbage_next = b""
        if faults.stray_zero_bytes:
            chunk += bytes(self._rng.randint(1, 3))
        if reply and faults.corrupt_next > 0:
            faults.corrupt_next -= 1
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        chunk += frame
        if reply:
            self.counters.replies_sent += 1
        else:
            self.counters.unsolicited_sent += 1
        self._tx.put_nowait(Outgoing(bytes(chunk), link))
