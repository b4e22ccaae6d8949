"""Canonical reservation, stay and folio line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, model_validator

from .base import Canonical, SourceRecord, UtcDateTime
from .profile import GuestProfile


class ReservationStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    IN_HOUSE = "in_house"
    CHECKED_OUT = "checked_out"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class Money(Canonical):
    amount: Decimal
    currency: str = Field(min_length=3, max_length=3)


class Reservation(SourceRecord):
    hotel_code: str
    confirmation_numbers: list[str] = Field(default_factory=list)
    status: ReservationStatus = ReservationStatus.CONFIRMED
    channel: str | None = None
    arrival: date
    departure: date
    room_type: str | None = None
    rate_code: str | None = None
    adults: int = Field(default=1, ge=0)
    children: int = Field(default=0, ge=0)
    total: Money | None = None
    special_requests: list[str] = Field(default_factory=list)
    created_at: UtcDateTime | None = None
    guest: GuestProfile | None = None

    @model_validator(mode="after")
    def _dates(self) -> Reservation:
        if self.departure < self.arrival:
            raise ValueError("departure is before arrival")
        return self


class Stay(SourceRecord):
    """A reservation as lived: actual check-in/out and room."""

    reservation_source_id: str
    hotel_code: str
    room_number: str | None = None
    checked_in_at: UtcDateTime | None = None
    checked_out_at: UtcDateTime | None = None


class FolioLine(SourceRecord):
    reservation_source_id: str
    hotel_code: str
    business_date: date
    transaction_code: str
    description: str | None = None
    amount: Money
    reference: str | None = None


class PosItem(Canonical):
    item_id: str
    name: str
    quantity: Decimal = Decimal(1)
    amount: Money
    voided: bool = False


class PosCheck(SourceRecord):
    hotel_code: str
    outlet: str
    business_date: date
    opened_at: UtcDateTime | None = None
    closed_at: UtcDateTime | None = None
    room_number: str | None = None
    total: Money
    items: list[PosItem] = Field(default_factory=list)
