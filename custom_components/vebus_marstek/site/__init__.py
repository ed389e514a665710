"""A site: member batteries and VE.Bus units driven together toward one power setpoint.

The pure core: the site's totals, how a request is shared out (split), how a grid reading
becomes a request (controller), how each member may be written (writes), and one control step
that combines them (loop). No Home Assistant imports; the integration (and the settling
benchmark) feed it member states and carry out the writes it plans.
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
from .loop import MemberState, SiteLoop
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
from .writes import (
    MARSTEK_PASSIVE,
    VEBUS_ESS,
    MemberWrites,
    PlannedWrite,
    WriteLog,
    WritePolicy,
    WriteReason,
    WriteRecord,
    WriteResult,
)

__all__ = [
    "MARSTEK_PASSIVE",
    "MAX_METER_PERIOD_S",
    "VEBUS_ESS",
    "ActiveMember",
    "ControlMode",
    "ControlStep",
    "ControllerSettings",
    "Direction",
    "GridController",
    "Member",
    "MemberState",
    "MemberWrites",
    "PlannedWrite",
    "SiteLoop",
    "SiteSummary",
    "SiteTotals",
    "Split",
    "SplitSettings",
    "SplitState",
    "Strategy",
    "WriteLog",
    "WritePolicy",
    "WriteReason",
    "WriteRecord",
    "WriteResult",
    "meter_gain",
    "meter_too_slow",
    "split_power",
    "summarise",
]
