"""Canonical feedback and alert."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Canonical, SourceRecord, UtcDateTime


class Feedback(SourceRecord):
    """A rating, complaint, suggestion or review about one stay.

    It names its stay by the reservation's source id (``reservation_source_id``, in
    ``reservation_source`` when that differs from the feedback's own source, e.g. a survey
    tool about OPERA reservations) or by a stay's source id."""

    rating: int | None = Field(default=None, ge=1, le=5)
    category: str | None = None  # complaint, praise, suggestion, survey, review, or finer
    text: str | None = None
    reservation_source: str | None = None
    reservation_source_id: str | None = None
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
    # "retire" asks the PMS adapter to remove the alert this (target, pms_id, rule) slot holds.
    action: Literal["upsert", "retire"] = "upsert"
