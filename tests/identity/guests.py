"""Invented guests as each channel renders them (no real person's data)."""

from __future__ import annotations

from typing import Any

from crmbridge.identity.features import MatchFeatures, features_of
from crmbridge.models import GuestProfile, validate_record


def profile(source: str, source_id: str, **fields: Any) -> GuestProfile:
    data: dict[str, Any] = {
        "source": source,
        "source_id": source_id,
        "updated_at": "2026-11-20T10:00:00+08:00",
    }
    for key in ("phones", "emails"):
        if key in fields:
            fields[key] = [{"number" if key == "phones" else "address": v} for v in fields[key]]
    data.update(fields)
    return validate_record(GuestProfile, data)


def features(**fields: Any) -> MatchFeatures:
    return features_of(profile("t", "1", **fields), match_on_documents=True)


# One invented guest, 张伟, as four systems write him.
def opera_zhang_wei(sid: str = "OP-1", **over: Any) -> GuestProfile:
    fields = {
        "given_name": "WEI",
        "surname": "ZHANG",
        "phones": ["138 0013 8000"],
        "birth_date": "1985-03-14",
    }
    return profile("opera", sid, **(fields | over))


def ctrip_zhang_wei(sid: str = "CT-1", **over: Any) -> GuestProfile:
    fields = {
        "local_name": "张伟",
        "phones": ["+86 138-0013-8000"],
        "emails": ["1380013****@ctrip-relay.com"],
    }
    return profile("ctrip", sid, **(fields | over))


def fliggy_zhang_wei(sid: str = "FG-1", **over: Any) -> GuestProfile:
    return profile("fliggy", sid, **({"local_name": "张伟", "phones": ["138****8000"]} | over))


def other_zhang_wei(sid: str = "OP-2", **over: Any) -> GuestProfile:
    """A different man with the same very common name."""
    fields = {
        "given_name": "Wei",
        "surname": "Zhang",
        "phones": ["139 1234 5678"],
        "birth_date": "1990-07-01",
    }
    return profile("opera", sid, **(fields | over))
