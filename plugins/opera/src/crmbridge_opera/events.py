"""OHIP Business Events: dequeue into the durable inbox first, process afterwards.

`getBusinessEvents` removes what it returns from OPERA's queue, so a crash between the
dequeue and the write would lose changes. Each dequeued page is therefore committed to the
source's inbox (`source.inbox.put`, which commits) before anything else happens; the fetch
hooks later re-read the reservation or profile each pending event names and list the
events' inbox ids in `Batch.ack`, so they are marked done in the same transaction as the data.
Only the module, action and primary key are kept: the events' old and new values may hold
guest data that the re-read brings anyway.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmbridge.api import SourceContext

from .client import OperaClient

if TYPE_CHECKING:  # the store (SQLAlchemy) is not needed to import the plugin
    from crmbridge.api import InboxMessage

PAGE = 20  # getBusinessEvents' documented maximum
MAX_PAGES = 500  # bounds one drain: 10,000 events, the rest wait for the next run
RESERVATION, PROFILE, OTHER = "ohip.event.reservation", "ohip.event.profile", "ohip.event.other"
KINDS = {"Reservation": RESERVATION, "Profile": PROFILE}


@dataclass(frozen=True)
class Event:
    inbox_id: int
    module: str
    action: str
    primary_key: str

    @classmethod
    def from_message(cls, msg: InboxMessage) -> Event:
        data = json.loads(msg.payload)
        return cls(msg.id, data.get("module", ""), data.get("action", ""), str(data.get("primaryKey", "")))


def events_path(ctx: SourceContext) -> str:
    cfg = ctx.settings
    return f"/int/v1/externalSystem/{cfg.external_system}/hotels/{cfg.hotel_id}/businessEvents"


def _message(item: dict[str, Any]) -> tuple[str, str, str] | None:
    header = (item.get("businessEvent") or {}).get("header") or {}
    module = str(header.get("moduleName") or "")
    key = (item.get("businessEventId") or {}).get("id") or header.get("actionId")
    if key is None:
        return None
    payload = {
        "module": module,
        "action": header.get("actionType"),
        "primaryKey": header.get("primaryKey"),
        "hotelId": header.get("hotelId"),
        "createdDateTime": header.get("createdDateTime"),
    }
    return KINDS.get(module, OTHER), f"event:{key}", json.dumps(payload)


def drain(ctx: SourceContext, client: OperaClient) -> int:
    """Dequeue every waiting event into the inbox; returns how many were dequeued."""
    if ctx.inbox is None:
        raise RuntimeError("the OPERA adapter needs a store-backed source (its inbox) for business events")
    total = 0
    for _ in range(MAX_PAGES):
        body = client.get_json("getBusinessEvents", events_path(ctx), {"limit": PAGE})
        items = body.get("businessEventData") or []
        msgs = [m for m in (_message(i) for i in items if isinstance(i, dict)) if m is not None]
        # Durable before anything else: OPERA has already forgotten these events.
        ctx.inbox.put(msgs)
        total += len(items)
        if len(items) < PAGE:
            break
    if total:
        ctx.log.info("source %s: %d business event(s) dequeued into the inbox", ctx.name, total)
    return total


def pending(ctx: SourceContext, kinds: list[str], limit: int = 1000) -> list[Event]:
    if ctx.inbox is None:
        return []
    return [Event.from_message(m) for m in ctx.inbox.pending(kinds, limit=limit)]
