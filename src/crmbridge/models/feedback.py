"""Canonical feedback and alert."""

from __future__ import annotations

from pydantic import Field

from .base import Canonical, SourceRecord, UtcDateTime


class Feedback(SourceRecord):
    rating: int | None = Field(default=None, ge=1, le=5)
    category: str | None = None
    text: str | None = None
    stay_source_id: str | None = None
    received_at: UtcDateTime | None = None


class Alert(Canonical):
    """A note for the PMS: what the desk should know at a given point of the stay."""

    target: str  # "reservation" or "profile"
    pms_source: str
    pms_id: str  # reservation or profile id in the PMS
    code: str
    area: str = "CheckIn"
    text: str = Field(max_length=2000)
    rule: str
