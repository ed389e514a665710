"""Faults a test can inject into the running simulator."""

from __future__ import annotations

from collections.abc import Callable


class Faults:
    """Runtime fault injection, settable while the simulator runs."""

    def __init__(
        self,
        *,
        on_asleep: Callable[[bool], None],
        on_reset: Callable[[], None],
        on_disconnect: Callable[[], None],
    ) -> None:
        self.garbage_next = b""  # bytes sent just before the next reply
        self.corrupt_next = 0  # next N reply frames get an inverted checksum
        self.drop_next = 0  # next N answered requests are executed but get no reply
        self.stray_zero_bytes = False  # 0x00 bytes before every frame
        self.unsolicited_vebus_frames = False  # raw 0x21 frames now and then
        self._asleep = False
        self._on_asleep = on_asleep
        self._on_reset = on_reset
        self._on_disconnect = on_disconnect

    @property
    def asleep(self) -> bool:
        """The MK3 lost VE.Bus power: complete silence; on waking its state is back to defaults."""
        return self._asleep

    @asleep.setter
    def asleep(self, value: bool) -> None:
        changed = value != self._asleep
        self._asleep = value
        if changed:
            self._on_asleep(value)

    def reset(self) -> None:
        """Unit reboot: boot frame, RAM-only settings lost, interface address forgotten."""
        self._on_reset()

    def disconnect(self) -> None:
        """The port disappears: drop the TCP client, close the pty."""
        self._on_disconnect()
