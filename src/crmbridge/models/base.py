"""Shared pieces of the canonical models: the record key and PII-safe validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

M = TypeVar("M", bound=BaseModel)


class Canonical(BaseModel):
    """Base of every canonical model: strict about unknown fields (PIPL minimisation, R1)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=False)


class SourceRecord(Canonical):
    """Something with an identity in a source system: keyed by (source, source_id)."""

    source: str
    source_id: str
    updated_at: datetime | None = None

    @field_validator("updated_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        # Naive times from exports are taken as UTC so ordering across sources is defined.
        if v is not None and v.tzinfo is None:
            return v.replace(tzinfo=UTC)
        return v


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
