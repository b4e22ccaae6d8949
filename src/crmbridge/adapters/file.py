"""Built-in file adapters: reservations with their guests, or guest feedback, from CSV or JSON Lines.

Incremental by ``updated_at``: the cursor keeps the high-water mark of the last completed pass,
plus, during a pass, the file and row reached, so a killed import resumes where its last
committed batch ended. Files are streamed; memory does not grow with their size.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ..api import (
    AdapterConfig,
    AdapterType,
    Batch,
    Feedback,
    Reject,
    Reservation,
    SourceContext,
    hookimpl,
    validate_into,
)

TYPE = "file"
FEEDBACK_TYPE = "feedback-file"
FEEDBACK_COLUMNS = (
    "source_id", "received_at", "rating", "category", "text", "reservation_id",
    "reservation_source", "stay_id", "updated_at",
)  # fmt: skip
CSV_COLUMNS = (
    "source_id", "hotel_code", "status", "arrival", "departure", "room_type", "rate_code",
    "adults", "children", "total_amount", "currency", "channel", "given_name", "surname",
    "local_name", "email", "phone", "birth_date", "id_type", "id_number", "preferences",
    "special_requests", "updated_at",
)  # fmt: skip
OPTIONAL_COLUMNS = ("guest_id", "confirmation_number", "created_at", "gender", "nationality")
STATUS_WORDS = {
    "reserved": "confirmed", "confirmed": "confirmed", "booked": "confirmed",
    "pending": "pending", "inhouse": "in_house", "in_house": "in_house",
    "checked_in": "in_house", "checkedin": "in_house", "checked_out": "checked_out",
    "checkedout": "checked_out", "check-out": "checked_out", "departed": "checked_out",
    "cancelled": "cancelled", "canceled": "cancelled", "no_show": "no_show",
    "noshow": "no_show", "no-show": "no_show",
}  # fmt: skip


class FileConfig(AdapterConfig):
    path: str = Field(description="a file or a glob, relative to the project root")
    format: Literal["csv", "jsonl"] | None = Field(
        default=None, description="csv or jsonl; taken from the extension when absent"
    )
    hotel_code: str | None = Field(default=None, description="for rows without hotel_code")
    batch_size: int = Field(default=1000, ge=1, le=50_000)


def _files(ctx: SourceContext) -> list[Path]:
    pattern = ctx.settings.path
    if not os.path.isabs(pattern):
        pattern = str(ctx.base_dir / pattern)
    return [Path(p) for p in sorted(glob.glob(pattern))]


def _format(path: Path, cfg: FileConfig) -> str:
    if cfg.format:
        return cfg.format
    return "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "csv"


def _rows(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(row number, row or None if unreadable, raw text) for each data row."""
    with path.open(encoding="utf-8-sig", newline="") as fh:  # -sig strips an Excel BOM
        if fmt == "jsonl":
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    yield n, obj if isinstance(obj, dict) else None, line
                except json.JSONDecodeError:
                    yield n, None, line
            return
        reader = csv.DictReader(fh)
        for row in reader:
            raw = json.dumps(row, ensure_ascii=False)
            yield reader.line_num, {k.strip(): v for k, v in row.items() if k}, raw


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _split(v: Any) -> list[str]:
    if _blank(v):
        return []
    if isinstance(v, list):
        return [str(x) for x in v]
    return [p.strip() for p in str(v).split(";") if p.strip()]


def map_row(row: dict[str, Any], *, source: str, default_hotel: str | None) -> dict[str, Any]:
    """A flat export row to the canonical reservation shape (validation happens after)."""
    g = {k: v for k, v in row.items() if not _blank(v)}
    sid = str(g.get("source_id", "")).strip()
    guest: dict[str, Any] = {
        "source": source,
        "source_id": str(g.get("guest_id") or f"rsv:{sid}"),
        "updated_at": g.get("updated_at"),
    }
    for k in ("given_name", "surname", "local_name", "birth_date", "gender", "nationality"):
        if k in g:
            guest[k] = g[k]
    if "email" in g:
        guest["emails"] = [{"address": e} for e in _split(g["email"])]
    if "phone" in g:
        guest["phones"] = [{"number": p} for p in _split(g["phone"])]
    if "id_number" in g:
        guest["documents"] = [{"doc_type": g.get("id_type", "UNKNOWN"), "number": g["id_number"]}]
    prefs = []
    for item in _split(g.get("preferences")):
        cat, _, code = item.partition(":")
        prefs.append({"category": cat.strip().upper(), "code": code.strip() or cat.strip()})
    if prefs:
        guest["preferences"] = prefs
    res: dict[str, Any] = {
        "source": source,
        "source_id": sid,
        "hotel_code": g.get("hotel_code", default_hotel),
        "arrival": g.get("arrival"),
        "departure": g.get("departure"),
        "updated_at": g.get("updated_at"),
        "guest": guest,
    }
    if "status" in g:
        word = str(g["status"]).strip().lower().replace(" ", "_")
        res["status"] = STATUS_WORDS.get(word, word)
    for k in ("room_type", "rate_code", "channel", "adults", "children", "created_at"):
        if k in g:
            res[k] = g[k]
    if "confirmation_number" in g:
        res["confirmation_numbers"] = _split(g["confirmation_number"])
    if "total_amount" in g:
        res["total"] = {"amount": g["total_amount"], "currency": g.get("currency", "CNY")}
    if "special_requests" in g:
        res["special_requests"] = _split(g["special_requests"])
    return res


def _parse_ts(v: Any) -> datetime | None:
    if _blank(v):
        return None
    try:
        ts = datetime.fromisoformat(str(v).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


class _Cursor:
    """{"watermark": iso, "pass": {"max": iso, "file": name, "row": n, "size": bytes}}"""

    def __init__(self, text: str | None, full: bool):
        data = json.loads(text) if text and not full else {}
        self.watermark = _parse_ts(data.get("watermark"))
        self.resume = data.get("pass")
        self.pass_max = _parse_ts((self.resume or {}).get("max")) or self.watermark

    def dump(self, file: Path | None, row: int) -> str:
        out: dict[str, Any] = {"watermark": self.watermark.isoformat() if self.watermark else None}
        if file is not None:
            out["pass"] = {
                "max": self.pass_max.isoformat() if self.pass_max else None,
                "file": str(file),
                "row": row,
                "size": file.stat().st_size,
            }
        return json.dumps(out)


def map_feedback_row(row: dict[str, Any], *, source: str, default_hotel: str | None) -> dict[str, Any]:
    """A feedback export row (survey tool, OTA reviews, guest-relations log) to `Feedback`."""
    g = {k: v for k, v in row.items() if not _blank(v)}
    out: dict[str, Any] = {"source": source, "source_id": str(g.get("source_id", "")).strip()}
    for k in ("rating", "category", "text", "received_at", "updated_at", "reservation_source"):
        if k in g:
            out[k] = g[k]
    if "reservation_id" in g:
        out["reservation_source_id"] = g["reservation_id"]
    if "stay_id" in g:
        out["stay_source_id"] = g["stay_id"]
    return out


def fetch(
    ctx: SourceContext,
    cursor: str | None,
    full: bool,
    model: type[Any] = Reservation,
    mapper: Callable[..., dict[str, Any]] = map_row,
) -> Iterator[Batch[Any]]:
    cfg: FileConfig = ctx.settings
    cur = _Cursor(cursor, full)
    files = _files(ctx)
    if not files:
        ctx.log.warning("source %s: no file matches %s", ctx.name, cfg.path)
    resume = cur.resume
    context = {"phone_region": ctx.phone_region}
    for path in files:
        skip_to = 0
        if resume:
            if str(path) < resume["file"]:
                continue  # finished in the interrupted pass
            if str(path) == resume["file"] and path.stat().st_size == resume.get("size"):
                skip_to = int(resume["row"])
        batch: Batch[Any] = Batch([], None)
        row_no = 0
        for row_no, row, raw in _rows(path, _format(path, cfg)):
            if row_no <= skip_to:
                continue
            ts = _parse_ts(row.get("updated_at")) if row else None
            if ts is not None and cur.watermark is not None and ts <= cur.watermark:
                continue
            if row is None:
                batch.rejects.append(Reject(f"{path.name}:{row_no}", "not a JSON object", raw))
            elif _blank(row.get("source_id")):
                batch.rejects.append(Reject(f"{path.name}:{row_no}", "source_id is empty", raw))
            else:
                mapped = mapper(row, source=ctx.name, default_hotel=cfg.hotel_code)
                validate_into(model, mapped, raw, batch, context)
                if ts is not None and (cur.pass_max is None or ts > cur.pass_max):
                    cur.pass_max = ts
            if batch.size >= cfg.batch_size:
                batch.cursor = cur.dump(path, row_no)
                yield batch
                batch = Batch([], None)
        if batch.size:
            batch.cursor = cur.dump(path, row_no)
            yield batch
    # The pass is complete: the high-water mark moves, the resume position is dropped.
    cur.watermark = cur.pass_max
    yield Batch([], cur.dump(None, 0))


def check(ctx: SourceContext) -> str:
    files = _files(ctx)
    if not files:
        raise FileNotFoundError(f"no file matches {ctx.settings.path}")
    unreadable = [p.name for p in files if not os.access(p, os.R_OK)]
    if unreadable:
        raise PermissionError(f"cannot read {', '.join(unreadable)}")
    return f"{len(files)} file(s) match"


def fetch_reservations(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[Reservation]]:
    return fetch(ctx, cursor, full)


def fetch_feedback(ctx: SourceContext, cursor: str | None, full: bool) -> Iterator[Batch[Feedback]]:
    return fetch(ctx, cursor, full, Feedback, map_feedback_row)


FILE = AdapterType(
    TYPE,
    FileConfig,
    {"reservations"},
    "Reservation and guest exports as CSV or JSON Lines",
    check,
    fetch={"reservations": fetch_reservations},
)
FEEDBACK_FILE = AdapterType(
    FEEDBACK_TYPE,
    FileConfig,
    {"feedback"},
    "Guest feedback (ratings, complaints, reviews) as CSV or JSON Lines",
    check,
    fetch={"feedback": fetch_feedback},
)


@hookimpl
def crmbridge_adapter_types() -> Iterable[AdapterType]:
    return [FILE, FEEDBACK_FILE]


def csv_header() -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow(CSV_COLUMNS)
    return buf.getvalue()
