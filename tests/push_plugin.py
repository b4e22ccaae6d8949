"""A minimal push adapter for the receiver's tests: JSON orders behind a shared-secret header.

Importable in-process (``tests.push_plugin``) and, through a dist-info on PYTHONPATH, by the
``crmbridge`` command in a subprocess.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Iterator
from typing import Any

from crmbridge.api import (
    AdapterConfig,
    AdapterType,
    Batch,
    PushReply,
    PushRequest,
    Reservation,
    SourceContext,
    hookimpl,
    validate_into,
)

TYPE = "jsonpush"


class Config(AdapterConfig):
    path: str = "/push/json"
    shared_token: str


def _reply(status: int, doc: dict[str, Any], accepted: list[int] | None = None) -> PushReply:
    return PushReply(status, json.dumps(doc).encode(), "application/json", accepted or [])


def receive(source: SourceContext, request: PushRequest) -> PushReply:
    given = request.headers.get("x-token", "").encode()
    if not hmac.compare_digest(given, source.settings.shared_token.encode()):
        return _reply(401, {"ok": False, "error": "bad token"})
    try:
        order = json.loads(request.body)
        key = str(order["order_id"])
    except (ValueError, KeyError, TypeError):
        return _reply(400, {"ok": False, "error": "not an order"})
    assert source.inbox is not None
    ids = source.inbox.put([("order", key, request.body.decode())])
    return _reply(200, {"ok": True}, ids)


def fetch(source: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[Reservation]]:
    assert source.inbox is not None
    for msg in source.inbox.pending():
        o = json.loads(msg.payload)
        batch: Batch[Reservation] = Batch([], cursor=None, ack=[msg.id])
        data = {
            "source": source.name,
            "source_id": o["order_id"],
            "hotel_code": "SHA01",
            "arrival": o["arrival"],
            "departure": o["departure"],
            "guest": {
                "source": source.name,
                "source_id": f"order:{o['order_id']}",
                "local_name": o.get("name"),
                "phones": [{"number": o["phone"]}] if o.get("phone") else [],
            },
        }
        validate_into(Reservation, data, msg.payload, batch, {"phone_region": source.phone_region})
        yield batch


JSONPUSH = AdapterType(
    TYPE,
    Config,
    {"receive", "reservations"},
    "receiver test double",
    fetch={"reservations": fetch},
    receive=receive,
)


@hookimpl
def crmbridge_adapter_types() -> Iterable[AdapterType]:
    return [JSONPUSH]
