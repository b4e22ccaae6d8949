"""Invented guests and reservations for tests, with Chinese and Latin names and CNY amounts."""

from __future__ import annotations

from typing import Any

from crmbridge.models import Reservation, validate_record


def reservation(source_id: str = "R-1001", *, source: str = "legacy_pms", **over: Any) -> Reservation:
    guest = {
        "source": source,
        "source_id": f"rsv:{source_id}",
        "given_name": "Wei",
        "surname": "Zhang",
        "local_name": "张伟",
        "emails": [{"address": "zhang.wei.test@example.cn"}],
        "phones": [{"number": "138 0013 8000"}],
        "birth_date": "1985-03-14",
        "documents": [{"doc_type": "ID_CARD", "number": "110101198503140018"}],
    }
    guest.update(over.pop("guest", {}))
    data = {
        "source": source,
        "source_id": source_id,
        "hotel_code": "SHA01",
        "status": "confirmed",
        "arrival": "2026-12-01",
        "departure": "2026-12-03",
        "room_type": "DLK",
        "total": {"amount": "1288.00", "currency": "CNY"},
        "special_requests": ["高楼层，远离电梯"],
        "updated_at": "2026-11-20T10:00:00+08:00",
        "guest": guest,
    }
    data.update(over)
    return validate_record(Reservation, data)
