"""What adapters and the engine exchange: adapter types, source context, batches."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from ..models import RecordInvalid, validate_record

if TYPE_CHECKING:
    from ..store.inbox import Inbox
    from ..store.ledger import PushLedger

T = TypeVar("T", bound=BaseModel)

Stream = Literal["reservations", "stays", "folios", "profiles", "feedback", "pos_checks"]
STREAMS: tuple[Stream, ...] = ("reservations", "stays", "folios", "profiles", "feedback", "pos_checks")


class AdapterConfig(BaseModel):
    """Base for an adapter's config model: unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class AdapterType:
    name: str
    config_model: type[AdapterConfig]
    capabilities: frozenset[str]
    description: str = ""
    # Optional: a callable(source) -> str that tests connectivity, raising on failure.
    check: Callable[[SourceContext], str] | None = None


@dataclass
class SourceContext:
    """One configured source as an adapter sees it."""

    name: str
    type: str
    settings: Any  # the adapter's validated config model
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("crmbridge.source"))
    phone_region: str = "CN"  # default region for phone numbers written without +CC
    base_dir: Path = field(default_factory=Path.cwd)  # relative paths in the config start here
    # Set by the engine when the source runs against a store (None in unit tests):
    inbox: Inbox | None = None  # durable, encrypted hand-over of messages seen once
    ledger: PushLedger | None = None  # what this PMS already shows (push_alerts)
    timezone: str = "Asia/Shanghai"  # the hotel's zone: its business dates (config `timezone`)
    # Counters an adapter keeps for the sync summary, e.g. {"requests": 12} sent to the PMS.
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class Reject:
    """A record that could not be mapped: kept in quarantine with its reason."""

    source_id: str
    reason: str
    raw: str


@dataclass
class Batch(Generic[T]):
    records: list[T]
    cursor: str | None
    rejects: list[Reject] = field(default_factory=list)
    # Inbox message ids this batch consumed: marked done in the batch's own transaction.
    ack: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.records) + len(self.rejects)


@dataclass
class PushResult:
    pms_id: str
    fingerprint: str
    status: Literal["created", "replaced", "unchanged", "retired", "failed"]
    detail: str = ""


def validate_into(
    model: type[T],
    data: dict[str, Any],
    raw: str,
    batch: Batch[T],
    context: dict[str, Any] | None = None,
) -> None:
    """Validate one mapped record into `batch.records`, or file it under `batch.rejects`."""
    try:
        batch.records.append(validate_record(model, data, context=context))
    except RecordInvalid as exc:
        batch.rejects.append(Reject(exc.source_id, str(exc), raw))


@dataclass(frozen=True)
class PushRequest:
    """One HTTP request a push source (an OTA) sent to the receiver, size-limited already."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    client: str = ""  # peer address, for logs


@dataclass
class PushReply:
    """What the receiver answers. `accepted` lists the inbox ids committed for this request."""

    status: int
    body: bytes
    content_type: str = "text/xml; charset=utf-8"
    accepted: list[int] = field(default_factory=list)


@dataclass
class DemoSource:
    """A source `crmbridge demo` can sync, with the loopback simulator it needs."""

    name: str
    type: str
    options: dict[str, Any]
    simulator: AbstractContextManager[Any] | None = None
    # For push sources (capability `receive`): called with the URL of the source's route on
    # the demo's receiver; it sends the demo's messages there, as the OTA would.
    sender: Callable[[str], None] | None = None
