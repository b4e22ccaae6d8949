"""The `[alerts]` and `[segments]` tables of crmbridge.toml."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..config import Schedule
from .segments import SegmentsConfig

__all__ = ["AlertsConfig", "SegmentsConfig"]


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Literal["zh", "en"] = "zh"
    lookahead_days: int = Field(default=3, ge=0, le=60)  # arrivals from today to today + N
    # PMS sources to push to; empty means every source whose adapter can push alerts.
    push_to: list[str] = Field(default_factory=list)
    code: str = Field(default="CRM", max_length=20)  # OPERA alert codes are at most 20 chars
    area: str = "CheckIn"
    max_chars: int = Field(default=200, ge=40, le=2000)  # what fits the arrivals screen
    schedule: Schedule | None = None
    # A reservation arriving within the lookahead gets its alerts pushed within seconds
    # (any source: a push, a business event, a sync), not only at the scheduled runs.
    realtime: bool = True
    realtime_debounce_s: float = Field(default=0.2, ge=0, le=60)
    realtime_workers: int = Field(default=4, ge=1, le=32)  # parallel pushes in a burst
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)  # per rule: enabled, thresholds
