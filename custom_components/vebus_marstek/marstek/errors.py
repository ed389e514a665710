"""Exceptions raised by the Marstek client; every one says what happened and to whom."""

from __future__ import annotations


class MarstekError(Exception):
    """Base class for everything this client raises."""


class MarstekConnectionError(MarstekError):
    """The device did not answer (after the allowed retries)."""

    def __init__(self, host: str, port: int, method: str, message: str | None = None) -> None:
        super().__init__(message or f"No reply from {host}:{port} to {method}")
        self.host = host
        self.port = port
        self.method = method


class MarstekClosedError(MarstekConnectionError):
    """The connection was closed by its owner while a request waited."""

    def __init__(self, host: str, port: int, method: str) -> None:
        super().__init__(
            host, port, method, f"The connection to {host}:{port} is closed ({method})"
        )


class MarstekPortInUseError(MarstekError):
    """Another program holds the UDP port the Open API must be spoken from."""

    def __init__(self, port: int) -> None:
        super().__init__(
            f"UDP port {port} is already in use by another program (another Marstek "
            "integration, the Daikin integration or a UDP tool). Stop that program, or set a "
            "different Open API port in the Marstek app and use that port here."
        )
        self.port = port


class MarstekDeviceError(MarstekError):
    """The device answered with a JSON-RPC error object."""

    def __init__(self, method: str, code: int, message: str, data: int | None = None) -> None:
        detail = f" (data {data})" if data is not None else ""
        super().__init__(f"{method} failed with error {code}: {message}{detail}")
        self.method = method
        self.code = code
        self.message = message
        self.data = data


class MarstekMethodUnsupportedError(MarstekDeviceError):
    """The device does not implement this method on its model or firmware (-32601)."""


class MarstekBusyError(MarstekDeviceError):
    """The device answered "parse error" with id 0: busy (e.g. serving its CT meter)."""


class MarstekWriteRejectedError(MarstekError):
    """The device answered set_result false to every attempt: nothing was changed."""

    def __init__(self, method: str, attempts: int) -> None:
        super().__init__(f"{method} was rejected by the device {attempts} times")
        self.method = method
        self.attempts = attempts


class MarstekWriteUnconfirmedError(MarstekError):
    """A write got no acknowledgement and could not be confirmed by reading back."""

    def __init__(self, method: str) -> None:
        super().__init__(
            f"{method} was sent but the device did not confirm it; it may or may not have "
            "taken effect"
        )
        self.method = method


class MarstekInvalidValueError(MarstekError, ValueError):
    """A value is outside what this device accepts; nothing was sent."""
