"""`crmbridge staff`, `audit`, `privacy`, `keys` and `segments export`: access and privacy.

Who is acting: `--as NAME` (or $CRMBRIDGE_STAFF) names an active staff member, whose role
decides what the command may do and show. Without it the command runs as the local IT admin,
`local:<os user>` with the `admin` role: whoever runs the CLI on the server holds the key file
and could read the database anyway, so they get what the admin role gets (masked profiles,
staff, audit, keys), audited under that name, and nothing more (no unmasking, no export, no
erasure: those need a `dpo` staff member).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, func, select

from ..access import audit as audit_mod
from ..access import staff as staff_mod
from ..access.roles import ROLES, UnknownRole
from ..access.service import PURPOSES, Access, AccessError
from ..config import DEFAULT_CONFIG
from ..store.crypto import Keyring
from ..store.schema import guests as guests_table
from ..store.schema import profile_records, reservations
from ..store.writer import as_utc, utcnow
from .context import App, err, fail, open_app

out = Console()
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="config file")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
AsOpt = Annotated[
    str | None,
    typer.Option("--as", help="act as this staff member (default $CRMBRIDGE_STAFF, else the local IT admin)"),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do it without asking")]
STAFF_ENV = "CRMBRIDGE_STAFF"


def _dump(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def actor(a: App, as_name: str | None) -> staff_mod.Actor:
    name = as_name or os.environ.get(STAFF_ENV)
    if not name:
        return staff_mod.local_admin("cli")
    try:
        with a.store.engine.connect() as conn:
            return staff_mod.actor_by_name(conn, name, "cli")
    except staff_mod.StaffError as exc:
        raise fail(str(exc), "see `crmbridge staff list`") from None


def segment_of(a: App) -> Any:
    """Segmentation for `Access` (insights sit above access, so the surface supplies it)."""
    from ..insights.config import SegmentsConfig
    from ..insights.facts import load_facts
    from ..insights.prearrival import hotel_today
    from ..insights.segments import segment

    today = hotel_today(a.config)
    cfg = a.config.segments or SegmentsConfig()

    def of(conn: Connection, ids: list[str]) -> Mapping[str, dict[str, Any]]:
        res: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 2000):
            for gid, facts in load_facts(conn, a.store.keyring, ids[i : i + 2000]).items():
                res[gid] = segment(facts, today, cfg).as_dict()
        return res

    return of


def access(a: App, as_name: str | None) -> Access:
    return Access(a.store, actor(a, as_name), dict(a.store.policy.source_trust), segment_of(a))


def run_access(call: Any, hint: str | None = None) -> Any:
    try:
        return call()
    except AccessError as exc:
        raise fail(str(exc), hint) from None


def confirm(what: str, yes: bool) -> None:
    # on stderr: --json output on stdout stays parseable
    err.print(what)
    if not yes and not typer.confirm("go ahead?", default=False):
        raise fail("nothing was changed", code=1)


def guest_id_of(a: App, prefix: str) -> str:
    with a.store.engine.connect() as conn:
        ids = [
            r.id
            for r in conn.execute(
                select(guests_table.c.id).where(guests_table.c.id.startswith(prefix)).limit(2)
            )
        ]
    if len(ids) != 1:
        raise fail(
            f"{'no' if not ids else 'more than one'} guest matches {prefix!r}",
            "use an id from `crmbridge guests` (erased guests are gone)",
        )
    return ids[0]


# -- staff ----------------------------------------------------------------------------------
staff_app = typer.Typer(help="Staff accounts, roles and API tokens.", no_args_is_help=True)


def _manage(a: App, as_name: str | None) -> None:
    who = actor(a, as_name)
    if "staff.manage" not in who.role.actions:
        raise fail(f"{who.name} ({who.role.name}) may not manage staff", "ask an admin")


@staff_app.command("add")
def staff_add(
    name: str,
    role: Annotated[str, typer.Option("--role", "-r", help=f"one of: {', '.join(ROLES)}")],
    config: ConfigOpt = DEFAULT_CONFIG,
    as_name: AsOpt = None,
) -> None:
    """Add a staff member with a role."""
    a = open_app(config)
    _manage(a, as_name)
    try:
        with a.store.engine.begin() as conn:
            staff_mod.add(conn, name, role, utcnow())
    except (UnknownRole, staff_mod.StaffError) as exc:
        raise fail(str(exc)) from None
    out.print(
        f"added {name} ({role}: {ROLES[role].description}); "
        f"give them a token with `crmbridge staff token {name}`"
    )


@staff_app.command("list")
def staff_list(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False, as_name: AsOpt = None) -> None:
    """Staff members, their roles, and who was revoked."""
    a = open_app(config)
    _manage(a, as_name)
    with a.store.engine.connect() as conn:
        rows = staff_mod.listing(conn)
    if as_json:
        _dump(rows)
        return
    t = Table("name", "role", "since", "revoked")
    for r in rows:
        t.add_row(str(r["name"]), str(r["role"]), str(r["created_at"])[:19], str(r["revoked_at"] or "")[:19])
    out.print(t if rows else "no staff yet: `crmbridge staff add NAME --role ROLE`")


@staff_app.command("revoke")
def staff_revoke(
    name: str, config: ConfigOpt = DEFAULT_CONFIG, yes: YesOpt = False, as_name: AsOpt = None
) -> None:
    """Revoke a staff member and every token of theirs (effective on their next request)."""
    a = open_app(config)
    _manage(a, as_name)
    with a.store.engine.connect() as conn:
        try:
            staff_mod.actor_by_name(conn, name, "cli")
        except staff_mod.StaffError as exc:
            raise fail(str(exc), "see `crmbridge staff list`") from None
    confirm(f"revoke {name}: their tokens stop working on the next request", yes)
    with a.store.engine.begin() as conn:
        n = staff_mod.revoke(conn, name, utcnow())
    out.print(f"revoked {name} and {n} token(s)")


@staff_app.command("token")
def staff_token(name: str, config: ConfigOpt = DEFAULT_CONFIG, as_name: AsOpt = None) -> None:
    """Issue a bearer token for the staff API (shown once; only its hash is stored)."""
    a = open_app(config)
    _manage(a, as_name)
    try:
        with a.store.engine.begin() as conn:
            token = staff_mod.issue_token(conn, name, utcnow())
    except staff_mod.StaffError as exc:
        raise fail(str(exc), "see `crmbridge staff list`") from None
    typer.echo(token)


# -- audit ----------------------------------------------------------------------------------
audit_app = typer.Typer(help="The audit of reads of personal data.", no_args_is_help=True)


def _auditor(a: App, as_name: str | None) -> None:
    who = actor(a, as_name)
    if "audit.read" not in who.role.actions:
        raise fail(f"{who.name} ({who.role.name}) may not read the audit", "ask the DPO or an admin")


@audit_app.command("list")
def audit_list(
    config: ConfigOpt = DEFAULT_CONFIG,
    staff_name: Annotated[str | None, typer.Option("--staff", help="only this staff member")] = None,
    guest: Annotated[str | None, typer.Option("--guest", help="only reads of this guest")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 200,
    as_json: JsonOpt = False,
    as_name: AsOpt = None,
) -> None:
    """Who read which guest, when, which fields and why (newest first)."""
    a = open_app(config)
    _auditor(a, as_name)
    with a.store.engine.connect() as conn:
        rows = audit_mod.listing(conn, a.store.keyring, staff_name, guest, limit)
    if as_json:
        _dump(rows)
        return
    t = Table("#", "at", "staff", "role", "surface", "action", "guest", "fields", "unmasked", "reason")
    for r in rows:
        t.add_row(
            str(r["id"]),
            r["at"][:19],
            r["staff"],
            r["role"],
            r["surface"],
            r["action"],
            (r["guest_id"] or "")[:8],
            ",".join(r["fields"]),
            "yes" if r["unmasked"] else "",
            r["reason"] or "",
        )
    out.print(t)


@audit_app.command("verify")
def audit_verify(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False, as_name: AsOpt = None) -> None:
    """Check the audit's hash chain: exit 1 if a row was edited or deleted."""
    a = open_app(config)
    _auditor(a, as_name)
    with a.store.engine.connect() as conn:
        v = audit_mod.verify(conn, a.store.keyring)
    if as_json:
        _dump({"ok": v.ok, "rows": v.rows, "problems": v.problems, "head": v.head})
    elif v.ok:
        out.print(
            f"[green]audit intact[/]: {v.rows} rows; "
            f"head {v.head or '-'} (keep it: a later run must extend it)"
        )
    else:
        for p in v.problems:
            out.print(f"[red]{p}[/]")
    if not v.ok:
        raise typer.Exit(1)


# -- privacy --------------------------------------------------------------------------------
privacy_app = typer.Typer(help="Subject access, erasure, retention and consent.", no_args_is_help=True)
ReasonOpt = Annotated[
    str, typer.Option("--reason", help="why (kept in the audit), e.g. the request's reference")
]


@privacy_app.command("export")
def privacy_export(
    guest: str,
    out_file: Annotated[Path, typer.Option("--out", help="the JSON file to write")],
    reason: ReasonOpt = "",
    config: ConfigOpt = DEFAULT_CONFIG,
    as_name: AsOpt = None,
) -> None:
    """Everything held about one guest, decrypted, into a JSON file (subject access)."""
    a = open_app(config)
    svc = access(a, as_name)
    gid = guest_id_of(a, guest)
    doc = run_access(lambda: svc.export_subject(gid, reason))
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=2, default=str)
    out.print(f"wrote {out_file} (mode 0600): {len(doc['records'])} record(s); hand it over securely")


@privacy_app.command("erase")
def privacy_erase(
    guest: str,
    reason: ReasonOpt = "",
    config: ConfigOpt = DEFAULT_CONFIG,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    as_name: AsOpt = None,
) -> None:
    """Erase a guest: destroy their data keys (every copy, backups included, becomes
    unreadable), delete their rows, and suppress re-import of their source records."""
    a = open_app(config)
    svc = access(a, as_name)
    svc_check = run_access(lambda: svc.require("privacy.erase"))
    del svc_check
    if not reason.strip():
        raise fail("a reason is required to erase a guest", 'e.g. --reason "erasure request 2026-118"')
    gid = guest_id_of(a, guest)
    with a.store.engine.connect() as conn:
        n = conn.execute(
            select(func.count()).select_from(profile_records).where(profile_records.c.guest_id == gid)
        ).scalar_one()
    confirm(f"erase guest {gid} ({n} record(s)): this cannot be undone", yes)
    result = run_access(lambda: svc.erase(gid, reason))
    if as_json:
        _dump(result)
    else:
        out.print(f"erased {gid}: {result['keys_destroyed']} data key(s) destroyed; re-import is suppressed")


@privacy_app.command("purge")
def privacy_purge(
    config: ConfigOpt = DEFAULT_CONFIG,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only list who would be erased")] = False,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    as_name: AsOpt = None,
) -> None:
    """Erase guests with no stay and no contact within [privacy] retain_years."""
    a = open_app(config)
    years = a.config.privacy.retain_years
    cutoff = datetime.now(UTC) - timedelta(days=365 * years)
    with a.store.engine.connect() as conn:
        stale = stale_guests(conn, cutoff)
    listing = [{"guest_id": g, "last_activity": t.isoformat() if t else None} for g, t in stale]
    if as_json and dry_run:
        _dump({"retain_years": years, "cutoff": cutoff.isoformat(), "guests": listing})
        return
    out.print(f"{len(stale)} guest(s) with no stay or contact since {cutoff.date()} ({years} years):")
    for r in listing:
        out.print(f"  {r['guest_id']}  last activity {str(r['last_activity'])[:10]}")
    if dry_run or not stale:
        return
    svc = access(a, as_name)
    run_access(lambda: svc.require("privacy.erase"), "run as a dpo staff member: --as NAME")
    confirm(f"erase these {len(stale)} guest(s): this cannot be undone", yes)
    done = [
        run_access(lambda g=g: svc.erase(g, f"retention: no activity within {years} years")) for g, _ in stale
    ]
    if as_json:
        _dump(done)
    else:
        out.print(f"erased {len(done)} guest(s)")


def stale_guests(conn: Connection, cutoff: datetime) -> list[tuple[str, datetime | None]]:
    """Live guests whose newest stay (departure) and newest record (observed or ingested)
    are both before `cutoff`."""
    seen = func.max(func.coalesce(profile_records.c.observed_at, profile_records.c.ingested_at))
    last_record = {
        gid: _moment(t)
        for gid, t in conn.execute(
            select(profile_records.c.guest_id, seen.label("last_seen")).group_by(profile_records.c.guest_id)
        )
    }
    last_stay = {
        gid: _moment(d)
        for gid, d in conn.execute(
            select(profile_records.c.guest_id, func.max(reservations.c.departure).label("last_departure"))
            .join(reservations, reservations.c.guest_record_id == profile_records.c.id)
            .group_by(profile_records.c.guest_id)
        )
    }
    out = []
    live = select(guests_table.c.id).where(guests_table.c.merged_into.is_(None)).order_by(guests_table.c.id)
    for (gid,) in conn.execute(live):
        times = [t for t in (last_record.get(gid), last_stay.get(gid)) if t is not None]
        last = max(times) if times else None
        if last is None or last < cutoff:
            out.append((gid, last))
    return out


def _moment(v: Any) -> datetime | None:
    # aggregates come back untyped on SQLite (text), typed on PostgreSQL
    if v is None:
        return None
    if isinstance(v, str):
        v = datetime.fromisoformat(v) if len(v) > 10 else date.fromisoformat(v)
    if not isinstance(v, datetime):
        v = datetime(v.year, v.month, v.day, tzinfo=UTC)
    return as_utc(v)


@privacy_app.command("replay")
def privacy_replay(
    config: ConfigOpt = DEFAULT_CONFIG, yes: YesOpt = False, as_json: JsonOpt = False, as_name: AsOpt = None
) -> None:
    """After restoring the data database from a backup: erase again every guest erased since
    (their data keys are gone from the key store, their rows came back with the backup)."""
    from ..store.erasure import shredded_guests

    a = open_app(config)
    svc = access(a, as_name)
    run_access(lambda: svc.require("privacy.erase"), "run as a dpo staff member: --as NAME")
    with a.store.engine.connect() as conn:
        ids = shredded_guests(conn, a.store.keyring)
    if not ids:
        out.print("nothing to replay: no guest here was erased since")
        return
    confirm(f"{len(ids)} guest(s) in this database were erased after it was backed up: erase them again", yes)
    done = [run_access(lambda g=g: svc.erase(g, "replay of an erasure after a restore")) for g in ids]
    if as_json:
        _dump(done)
    else:
        out.print(f"erased {len(done)} guest(s) again")


@privacy_app.command("consent")
def privacy_consent(
    guest: str,
    purpose: Annotated[str, typer.Option("--purpose", help=", ".join(PURPOSES))],
    wording: Annotated[str, typer.Option("--wording", help="version of the notice the guest saw")] = "",
    withdraw: Annotated[
        bool, typer.Option("--withdraw", help="record a withdrawal instead of a grant")
    ] = False,
    config: ConfigOpt = DEFAULT_CONFIG,
    as_name: AsOpt = None,
) -> None:
    """Record a guest's consent (or its withdrawal) for one purpose."""
    a = open_app(config)
    svc = access(a, as_name)
    gid = guest_id_of(a, guest)
    res = run_access(lambda: svc.record_consent(gid, purpose, not withdraw, wording))
    out.print(f"{'withdrawn' if withdraw else 'granted'}: {purpose} for {gid} at {res['recorded_at'][:19]}")


# -- segments export ------------------------------------------------------------------------
def segments_export(
    segment_name: Annotated[str, typer.Argument(help="a value tier (A/B/C), guest type, tag, or `all`")],
    purpose: Annotated[str, typer.Option("--purpose", help="what the export is for (only `marketing`)")],
    config: ConfigOpt = DEFAULT_CONFIG,
    out_file: Annotated[Path | None, typer.Option("--out", help="JSON file (default: stdout)")] = None,
    as_name: AsOpt = None,
) -> None:
    """Guests of a segment for a campaign: only those with a current marketing consent."""
    a = open_app(config)
    svc = access(a, as_name)

    def matches(seg: dict[str, Any] | None) -> bool:
        if segment_name == "all":
            return True
        if seg is None:
            return False
        return segment_name in (seg.get("value_tier"), seg.get("guest_type"), seg.get("loyalty_tier")) or (
            segment_name in (seg.get("tags") or [])
        )

    rows = run_access(
        lambda: svc.marketing_export(purpose, matches), "run as a marketing staff member: --as NAME"
    )
    if out_file:
        fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, ensure_ascii=False, indent=2)
        out.print(f"wrote {len(rows)} consented guest(s) to {out_file}")
    else:
        _dump(rows)


# -- keys -----------------------------------------------------------------------------------
keys_app = typer.Typer(help="The master key: check and rotate.", no_args_is_help=True)


@keys_app.command("rotate")
def keys_rotate(
    config: ConfigOpt = DEFAULT_CONFIG,
    yes: YesOpt = False,
    batch: Annotated[int, typer.Option(help="data keys re-wrapped per transaction")] = 1000,
    as_name: AsOpt = None,
) -> None:
    """A new master key wraps every data key (data is not re-encrypted, blind indexes stay).
    Resumable: run it again after an interruption and it finishes the re-wrap."""
    a = open_app(config)
    who = actor(a, as_name)
    if "keys.rotate" not in who.role.actions:
        raise fail(f"{who.name} ({who.role.name}) may not rotate keys", "ask an admin")
    ks = a.store.key_store
    key_file = a.config.store.key_file
    if ks is None:
        raise fail("no key store configured", "set [store] key_store")
    remaining = ks.remaining()
    if remaining:
        out.print(f"resuming: {remaining} data key(s) are still wrapped by an older master key")
    else:
        if os.environ.get("CRMBRIDGE_KEYS"):
            raise fail(
                "the keys come from $CRMBRIDGE_KEYS: add a new key there (keep the old one), "
                "make it active, and run this again"
            )
        if key_file is None:
            raise fail("no key file configured")
        ring = a.store.keyring
        new_id = _next_kid(ring)
        confirm(
            f"add master key {new_id} to {key_file}, make it active, and re-wrap {ks.count()} data key(s)",
            yes,
        )
        rotated = Keyring({**ring.keys, new_id: os.urandom(32)}, new_id)
        _replace_key_file(key_file, rotated)
        a.store.close()
        a = open_app(config)  # records the new key's check value in both stores
        ks = a.store.key_store
        assert ks is not None
    done, left = ks.rewrap(batch)
    out.print(f"re-wrapped {done} data key(s) under {a.store.keyring.active}; {left} left")
    if left:
        raise typer.Exit(1)


def _next_kid(ring: Keyring) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    kid, n = f"k{stamp}", 1
    while kid in ring.keys:
        n += 1
        kid = f"k{stamp}-{n}"
    return kid


def _replace_key_file(path: Path, ring: Keyring) -> None:
    # written beside and renamed over: a crash leaves the old file or the new, never half
    tmp = path.with_suffix(".new")
    tmp.unlink(missing_ok=True)
    ring.write(tmp)
    os.replace(tmp, path)
