"""What every part of `MarstekSimulator` shares: its state, its clock, running a request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import random

from .faults import Faults
from .plant import battery_setpoint, integrate
from .profiles import MarstekProfile
from .results import bms_silent
from .state import BatteryState
from .wire import INVALID_PARAMS, METHOD_NOT_FOUND, JsonObject, RpcError, RpcRequest

type _Handler = Callable[[JsonObject], JsonObject | None]


class SimulatorCore:
    """The state the transport and the method handlers of `MarstekSimulator` work on.

    They are mixins over this class, and `MarstekSimulator.__init__` sets what it declares, so
    every part sees the one simulator.
    """

    profile: MarstekProfile
    host: str
    port: int
    state: BatteryState
    faults: Faults
    _clock: Callable[[], float]
    _wall_clock: Callable[[], datetime]
    _wall_offset: float
    _last_clock: float
    _rng: random.Random
    _handlers: dict[str, _Handler]

    @property
    def src(self) -> str:
        return f"{self.profile.src_prefix}-{self.state.ble_mac}"

    def sync(self) -> None:
        """Catch the model up with the clock; done automatically on every request."""
        now = self._clock()
        elapsed, self._last_clock = now - self._last_clock, now
        if elapsed > 0:
            integrate(self.profile, self.state, elapsed, self.wall_now())
        self._refresh_setpoint()

    def wall_now(self) -> datetime:
        """The device RTC: the injected wall clock plus everything advance() added."""
        return self._wall_clock() + timedelta(seconds=self._wall_offset)

    def _refresh_setpoint(self) -> None:
        self.state.battery_charge_w = battery_setpoint(self.profile, self.state, self.wall_now())

    def _run(self, request: RpcRequest) -> tuple[JsonObject | None, RpcError | None]:
        try:
            self.sync()
            if not isinstance(request.params, dict):
                raise RpcError(INVALID_PARAMS)
            result = self._execute(request.method, request.params)
            if self.faults.bms_zeros and result is not None:
                result = bms_silent(result)
            return result, None
        except RpcError as error:
            return None, error

    def _execute(self, method: str, params: JsonObject) -> JsonObject | None:
        handler = self._handlers.get(method)
        if handler is None or method not in self.profile.capabilities:
            pv_data = self.profile.pv_not_found_data if method == "PV.GetStatus" else None
            raise RpcError(METHOD_NOT_FOUND, pv_data)
        return handler(params)
