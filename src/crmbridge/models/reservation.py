"""Canonical reservation, stay and folio line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, model_validator

from .base import Canonical, SourceId, SourceRecord, UtcDateTime
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

    reservation_source_id: SourceId
    hotel_code: str
    room_number: str | None = None
    checked_in_at: UtcDateTime | None = None
    checked_out_at: UtcDateTime | None = None


class FolioLine(SourceRecord):
    reservation_source_id: SourceId
    hotel_code: str
    business_date: date
    transaction_code: str
    description: str | None = None
    amount: Money
    reference: str | None = None


class PosLineKind(StrEnum):
    ITEM = "item"  # a menu item (or a condiment of one, see parent_line_id)
    DISCOUNT = "discount"  # amount is negative
    SERVICE_CHARGE = "service_charge"


class PosItem(Canonical):
    """One sales line of a POS check: a menu item, a discount or a service charge.

    Menu names and amounts are not personal data; they are stored in clear."""

    item_id: str
    name: str
    quantity: Decimal = Decimal(1)
    amount: Money
    voided: bool = False
    kind: PosLineKind = PosLineKind.ITEM
    line_id: str | None = None
    parent_line_id: str | None = None  # a condiment or item discount names its item
    group: str | None = None  # the menu's major/family group, e.g. "Beverage", "热菜"
    returned: bool = False  # a return: quantity and amount are negative


class PosTender(Canonical):
    """How a check was paid. A room charge is what ties a check to a stay."""

    tender_id: str
    name: str
    amount: Money
    room_charge: bool = False
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
    check_number: str | None = None
    outlet_id: str | None = None
    covers: int | None = Field(default=None, ge=0)
    subtotal: Money | None = None
    discount_total: Money | None = None
    service_charge_total: Money | None = None
    tip_total: Money | None = None
    tenders: list[PosTender] = Field(default_factory=list)
    cancelled: bool = False
    # Free text typed at the POS (a name for the check, a server's note): personal data,
    # stored encrypted.
    guest_name: str | None = None
    notes: list[str] = Field(default_factory=list)

    @property
    def room_charge(self) -> Money | None:
        """The amount charged to a room, if any tender was a room charge."""
        lines = [t.amount for t in self.tenders if t.room_charge and not t.voided]
        if not lines:
            return None
        return Money(amount=sum((m.amount for m in lines), Decimal(0)), currency=lines[0].currency)
