"""A site: member batteries and VE.Bus units driven together toward one power setpoint.

The pure core: how a site request is shared out, and the site's totals. No Home Assistant
imports; the integration feeds it member states and applies the powers it returns.
"""

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
    "ActiveMember",
    "Direction",
    "Member",
    "SiteSummary",
    "SiteTotals",
    "Split",
    "SplitSettings",
    "SplitState",
    "Strategy",
    "split_power",
    "summarise",
]
