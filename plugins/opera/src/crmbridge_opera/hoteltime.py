"""The hotel's business day, for both OPERA adapters.

OPERA's dates (arrivals, departures, business dates) are the property's local dates: in
Shanghai between midnight and 08:00 the UTC date is still yesterday. The zone is the
source's `timezone` key, else the config's top-level `timezone`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from crmbridge.adapters.base import SourceContext

DEFAULT_ZONE = "Asia/Shanghai"


def utcnow() -> datetime:
    """The current time; tests replace this to stand at a given hour."""
    return datetime.now(UTC)


def zone_of(ctx: SourceContext) -> ZoneInfo:
    name = getattr(ctx.settings, "timezone", None) or getattr(ctx, "timezone", None) or DEFAULT_ZONE
    return ZoneInfo(name)


def hotel_today(ctx: SourceContext) -> date:
    return utcnow().astimezone(zone_of(ctx)).date()
