"""Shared pieces of the canonical models: the record key and PII-safe validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

M = TypeVar("M", bound=BaseModel)


def _to_utc(v: datetime) -> datetime:
    # Sources disagree on offsets (OPERA in hotel time, OTAs in GMT+8, exports naive); the
    # store compares times across them and SQLite keeps no offset, so everything is UTC.
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]
# An id in a source system: the idempotency key. Empty (or only spaces) it would key every
# such record to one row, so it is refused and the record quarantined.
SourceId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Canonical(BaseModel):
    """Base of every canonical model: strict about unknown fields (PIPL minimisation, R1)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=False)


class SourceRecord(Canonical):
    """Something with an identity in a source system: keyed by (source, source_id)."""

    source: SourceId
    source_id: SourceId
    updated_at: UtcDateTime | None = None


class RecordInvalid(ValueError):
    """A source record failed validation. Names fields and the record id, never values."""

    def __init__(self, source: str, source_id: str, problems: list[tuple[str, str]]):
        self.source = source
        self.source_id = source_id
        self.problems = problems
        detail = "; ".join(f"{loc}: {msg}" for loc, msg in problems)
        super().__init__(f"record {source}/{source_id} is invalid: {detail}")


def validate_record(model: type[M], data: dict[str, Any], *, context: dict[str, Any] | None = None) -> M:
    """Validate `data` into `model`, turning pydantic's error (which echoes the input,
    and so guest PII) into a RecordInvalid that carries only field paths and messages."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in err["loc"]) or "(record)", err["msg"])
            for err in exc.errors(include_input=False, include_url=False, include_context=False)
        ]
        raise RecordInvalid(str(data.get("source", "?")), str(data.get("source_id", "?")), problems) from None
