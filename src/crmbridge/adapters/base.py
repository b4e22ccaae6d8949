"""What adapters and the engine exchange: adapter types, source context, batches."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from ..models import RecordInvalid, validate_record

if TYPE_CHECKING:
    from ..models import Alert
    from ..store.inbox import Inbox
    from ..store.ledger import PushLedger

T = TypeVar("T", bound=BaseModel)

Stream = Literal["reservations", "stays", "folios", "profiles", "feedback", "pos_checks"]
STREAMS: tuple[Stream, ...] = ("reservations", "stays", "folios", "profiles", "feedback", "pos_checks")


class AdapterConfig(BaseModel):
    """Base for an adapter's config model: unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid")


# What an adapter implements, per capability. Called positionally by the core.
FetchFn = Callable[["SourceContext", "str | None", bool], Iterator["Batch[Any]"]]
ReceiveFn = Callable[["SourceContext", "PushRequest"], "PushReply"]
PushAlertsFn = Callable[["SourceContext", "list[Alert]"], "list[PushResult]"]
CheckFn = Callable[["SourceContext"], str]

RECEIVE = "receive"
PUSH_ALERTS = "push_alerts"
CAPABILITIES: tuple[str, ...] = (*STREAMS, RECEIVE, PUSH_ALERTS)
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class AdapterType:
    """One adapter: what hotel IT names in ``type = "..."`` and everything the core calls.

    ``capabilities`` is the adapter's promise and is checked against what it carries when
    the plugin loads: every declared stream needs its ``fetch[stream]`` callable, ``receive``
    needs ``receive``, ``push_alerts`` needs ``push_alerts``, and nothing may be carried
    undeclared (see ``problems``). The core routes by ``name``: a callable is only ever
    called for sources of this type, so it never needs to test ``source.type``.
    """

    name: str
    config_model: type[AdapterConfig]
    capabilities: frozenset[str]
    description: str = ""
    # Optional: a callable(source) -> str that tests connectivity, raising on failure.
    check: CheckFn | None = None
    # stream -> callable(source, cursor, full) yielding Batch objects (see hookspecs).
    fetch: Mapping[str, FetchFn] = field(default_factory=dict)
    # callable(source, request) -> PushReply, for push sources (capability "receive").
    receive: ReceiveFn | None = None
    # callable(source, alerts) -> [PushResult], for PMSs (capability "push_alerts").
    push_alerts: PushAlertsFn | None = None

    def __post_init__(self) -> None:
        # Accept any iterable of names and any mapping; store immutable copies.
        object.__setattr__(self, "capabilities", frozenset(self.capabilities))
        object.__setattr__(self, "fetch", MappingProxyType(dict(self.fetch)))

    @property
    def streams(self) -> tuple[str, ...]:
        """The streams this adapter fetches, in the core's canonical order."""
        return tuple(s for s in STREAMS if s in self.capabilities)

    def problems(self) -> list[str]:
        """Why this adapter cannot be loaded; empty when it is consistent."""
        out: list[str] = []
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            out.append(f"adapter type name {self.name!r} must be lower case letters, digits, - or _")
        if not (isinstance(self.config_model, type) and issubclass(self.config_model, BaseModel)):
            out.append(f"{self.name}: config_model must be a pydantic model (subclass AdapterConfig)")
        unknown = sorted(self.capabilities - set(CAPABILITIES))
        if unknown:
            out.append(
                f"{self.name}: unknown capabilit{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(map(repr, unknown))} (known: {', '.join(CAPABILITIES)})"
            )
        for stream in STREAMS:
            declared, given = stream in self.capabilities, self.fetch.get(stream)
            if declared and given is None:
                out.append(
                    f"{self.name}: declares stream {stream!r} but implements no fetch for it "
                    f"(give fetch={{{stream!r}: callable}} or drop it from capabilities)"
                )
            elif given is not None and not declared:
                out.append(
                    f"{self.name}: implements fetch {stream!r} but does not declare it in capabilities"
                )
        for key in sorted(set(self.fetch) - set(STREAMS)):
            out.append(f"{self.name}: fetch {key!r} is not a stream (streams: {', '.join(STREAMS)})")
        for cap, given in ((RECEIVE, self.receive), (PUSH_ALERTS, self.push_alerts)):
            if cap in self.capabilities and given is None:
                out.append(f"{self.name}: declares {cap!r} but implements no {cap} callable")
            elif given is not None and cap not in self.capabilities:
                out.append(f"{self.name}: implements {cap} but does not declare {cap!r} in capabilities")
        for what, fn in [*(("fetch " + k, v) for k, v in self.fetch.items()),
                         ("receive", self.receive), ("push_alerts", self.push_alerts),
                         ("check", self.check)]:  # fmt: skip
            if fn is not None and not callable(fn):
                out.append(f"{self.name}: {what} is not callable")
        return out


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
