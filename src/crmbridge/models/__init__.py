"""Canonical pydantic models every adapter normalises into."""

from .base import Canonical, RecordInvalid, SourceRecord, validate_record
from .feedback import Alert, Feedback
from .profile import (
    Address,
    Consent,
    Email,
    Gender,
    GuestProfile,
    IdentityDocument,
    Membership,
    Phone,
    Preference,
    normalise_phone,
)
from .reservation import (
    FolioLine,
    Money,
    PosCheck,
    PosItem,
    PosLineKind,
    PosTender,
    Reservation,
    ReservationStatus,
    Stay,
)

__all__ = [
    "Address",
    "Alert",
    "Canonical",
    "Consent",
    "Email",
    "Feedback",
    "FolioLine",
    "Gender",
    "GuestProfile",
    "IdentityDocument",
    "Membership",
    "Money",
    "Phone",
    "PosCheck",
    "PosItem",
    "PosLineKind",
    "PosTender",
    "Preference",
    "RecordInvalid",
    "Reservation",
    "ReservationStatus",
    "SourceRecord",
    "Stay",
    "normalise_phone",
    "validate_record",
]
