"""Exceptions raised by the VE.Bus client."""

from __future__ import annotations


class VebusError(Exception):
    """Base class for everything this client raises."""


class VebusConnectionError(VebusError):
    """The port cannot be opened, or it went away."""


class VebusTimeoutError(VebusError):
    """The interface did not answer a request in time (after retries)."""


class VebusUnitAsleepError(VebusTimeoutError):
    """The interface is silent altogether: the unit is off and asleep, or unpowered."""


class VebusUnsupportedError(VebusError):
    """The unit does not have this variable or setting."""


class VebusWriteError(VebusError):
    """The unit refused a write (unknown command, access level required)."""


class VebusInvalidValueError(VebusError, ValueError):
    """A value is outside what the unit accepts; nothing was sent."""
