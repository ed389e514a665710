"""A site: member batteries and VE.Bus units driven together toward one power setpoint.

The pure core: how a site request is shared out, and the site's totals. No Home Assistant
imports; the integration feeds it member states and applies the powers it returns.
"""

from .controller import (
    MAX_METER_PERIOD_S,
    ControllerSettings,
    ControlMode,
    ControlStep,
    GridController,
    meter_gain,
    meter_too_slow,
)
from .models import (
    ActiveMember,
    Direction,
    Member,
    SiteSummary,
    Split,
    SplitSettings,
    SplitState,
    Strategy,
)
from .split import split_power
from .totals import SiteTotals, summarise

__all__ = [
    "MAX_METER_PERIOD_S",
    "ActiveMember",
    "ControlMode",
    "ControlStep",
    "ControllerSettings",
    "Direction",
    "GridController",
    "Member",
    "SiteSummary",
    "SiteTotals",
    "Split",
    "SplitSettings",
    "SplitState",
    "Strategy",
    "meter_gain",
    "meter_too_slow",
    "split_power",
    "summarise",
]
