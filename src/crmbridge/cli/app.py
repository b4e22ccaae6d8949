"""`crmbridge` commands. Each is thin: it parses options and calls a room of the core."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from ..config import DEFAULT_CONFIG, ConfigError, load_config
from ..engine.sources import build_source
from ..engine.sync import StreamResult, SyncEngine
from ..plugins import load_plugins
from ..store.crypto import Keyring
from ..store.reader import source_status
from ..store.schema import guests as guests_table
from ..store.writer import Counts
from .alerts import DateOpt, alerts_app, segments_command
from .context import console, err, fail, is_tty, open_app
from .db import db_app
from .logs import configure_logging
from .new_adapter import new_adapter
from .preflight import preflight
from .privacy import AsOpt, access, audit_app, keys_app, privacy_app, run_access, segments_export, staff_app

app = typer.Typer(
    help="crmbridge: one encrypted guest store fed by your PMS, OTAs and POS.",
    no_args_is_help=True,
    # Locals in a traceback could hold decrypted guest data: never print them.
    pretty_exceptions_show_locals=False,
)
out = console()
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="config file")]
EXAMPLE_NAME = "crmbridge.example.toml"
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _dump(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _private_dirs(path: Path) -> None:
    """Create `path` and its missing parents owner-only (0700), whatever the umask."""
    missing = []
    for p in [path, *path.parents]:
        if p.exists():
            break
        missing.append(p)
    for p in reversed(missing):
        p.mkdir(mode=0o700)
        p.chmod(0o700)  # mkdir's mode is filtered by the umask only downwards; say it exactly


def _write_private(path: Path, data: bytes) -> None:
    """A new file readable by its owner only (0600): the config names hosts and users."""
    _private_dirs(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(data)


@app.command()
def init(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Write the config from the example (unless it exists) and create the key file."""
    if not config.exists():
        example = config.parent / EXAMPLE_NAME
        if not example.exists():
            raise fail(f"{example} not found", "run from the crmbridge checkout, or pass --config")
        _write_private(config, example.read_bytes())
        out.print(f"wrote {config} from the example: edit its [sources] tables", markup=False)
    else:
        out.print(f"{config} exists: left as it is")
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    key_file = cfg.store.key_file
    if key_file is None:
        out.print("no key_file configured: keys come from $CRMBRIDGE_KEYS")
    elif key_file.exists():
        out.print(f"key file {key_file} exists: left as it is")
    else:
        _private_dirs(key_file.parent)
        Keyring.generate(kid="k1").write(key_file)
        out.print(f"created key file {key_file} (mode 0600). Back it up: without it the store is unreadable.")


@app.command()
def check(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """Validate the config, resolve secrets, open the store and test each source."""
    a = open_app(config)
    try:
        preflight(a)
    except ConfigError as exc:
        raise fail(str(exc), "fix the file, then run `crmbridge check` again") from None
    results = []
    config_wrong: list[str] = []  # a source's table is wrong (a secret resolves empty): exit 2, not 1
    for src in a.config.sources.values():
        try:
            ctx, _ = build_source(a.config, src, a.hooks, a.store)
            detail = a.hooks.check(ctx) or "configuration valid"
            results.append({"source": src.name, "type": src.type, "ok": True, "detail": detail})
        except ConfigError as exc:
            config_wrong.append(str(exc))
            results.append({"source": src.name, "type": src.type, "ok": False, "detail": str(exc)})
        except Exception as exc:
            results.append({"source": src.name, "type": src.type, "ok": False, "detail": str(exc)})
    if as_json:
        _dump({"store": "ok", "sources": results})
    else:
        out.print("[green]store ok[/]")
        for r in results:
            mark = "[green]ok[/]" if r["ok"] else "[red]FAILED[/]"
            out.print(f"{r['source']} ({r['type']}): {mark} {escape(str(r['detail']))}")
    if config_wrong:
        for problem in config_wrong:
            err.print(f"error: {problem}", markup=False)
        err.print("fix the file, then run `crmbridge check` again", markup=False)
        raise typer.Exit(2)
    if not all(r["ok"] for r in results):
        raise typer.Exit(1)


def _run_sync(
    a: Any, names: list[str], full: bool, as_json: bool, stop: threading.Event
) -> list[StreamResult]:
    engine = SyncEngine(a.store, a.hooks, should_stop=stop.is_set)
    results: list[StreamResult] = []
    show = is_tty() and not as_json
    for name in names:
        src = a.config.sources[name]
        try:
            ctx, adapter = build_source(a.config, src, a.hooks, a.store)
        except ConfigError as exc:
            err.print(f"[red]{name}: skipped:[/] {escape(str(exc))}")
            results.append(StreamResult(name, "-", "failed", Counts(), 0.0, str(exc)))
            continue
        if show:
            with out.status(f"syncing {name}...") as status:

                def progress(source: str, stream: str, c: Any) -> None:
                    status.update(
                        f"{source}/{stream}: {c.fetched} fetched, {c.inserted} new, "
                        f"{c.updated} updated, {c.unchanged} unchanged, {c.quarantined} quarantined"
                    )

                results += engine.sync_source(ctx, adapter, full, progress)
        else:
            results += engine.sync_source(ctx, adapter, full)
        if stop.is_set():
            break
    return results


@app.command()
def sync(
    config: ConfigOpt = DEFAULT_CONFIG,
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="only this source")] = None,
    full: Annotated[bool, typer.Option("--full", help="re-read everything, ignoring cursors")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run every source (or the named ones) once."""
    a = open_app(config)
    names = source or list(a.config.sources)
    unknown = [n for n in names if n not in a.config.sources]
    if unknown:
        raise fail(
            f"no source named {', '.join(unknown)} in {config}",
            f"configured sources: {', '.join(a.config.sources) or 'none'}",
        )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    results = _run_sync(a, names, full, as_json, stop)
    if as_json:
        _dump([r.as_dict() for r in results])
    else:
        t = Table(
            "source",
            "stream",
            "status",
            "fetched",
            "inserted",
            "updated",
            "unchanged",
            "quarantined",
            "requests",
            "seconds",
        )
        for r in results:
            c = r.counts
            t.add_row(
                r.source,
                r.stream,
                r.status,
                *(str(x) for x in (c.fetched, c.inserted, c.updated, c.unchanged, c.quarantined)),
                "-" if r.requests is None else str(r.requests),
                f"{r.duration_s:.1f}",
            )
        out.print(t)
        for r in results:
            if r.error:
                err.print(f"[red]{r.source}/{r.stream}:[/] {escape(r.error)}")
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


@app.command()
def status(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """Per source: last run, cursor, counts, last error, quarantine size."""
    a = open_app(config)
    with a.store.engine.connect() as conn:
        st = source_status(conn)
    if as_json:
        _dump(st)
        return
    t = Table("source", "stream", "last run", "status", "fetched/ins/upd/unch", "quarantined", "error")
    for s in st:
        for stream, info in s["streams"].items():
            run = info.get("last_run", {})
            t.add_row(
                s["source"],
                stream,
                run.get("started_at", "-")[:19],
                run.get("status", "-"),
                "/".join(str(run.get(k, "-")) for k in ("fetched", "inserted", "updated", "unchanged")),
                str(s["quarantined"]),
                (run.get("error") or "")[:60],
            )
    out.print(t if st else "no sync has run yet: try `crmbridge sync`")


@app.command()
def plugins(as_json: JsonOpt = False) -> None:
    """Installed plugins, their adapter types, and any that failed to load (plugin API version)."""
    hooks = load_plugins()
    infos = [p.as_dict() for p in hooks.plugins]
    problems = hooks.problems()
    if as_json:
        _dump({"api_version": hooks.api_version, "plugins": infos, "problems": problems})
    else:
        out.print(f"crmbridge plugin API {hooks.api_version}")
        t = Table("plugin", "distribution", "version", "status", "adapter types", "error")
        for p in infos:
            colour = {"loaded": "green", "failed": "red"}.get(p["status"], "yellow")
            t.add_row(
                p["name"],
                p["distribution"] or "",
                p["version"] or "",
                f"[{colour}]{p['status']}[/]",
                ", ".join(p["adapter_types"]),
                p["error"] or "",
            )
        out.print(t)
        for problem in problems:
            out.print(f"[red]configuration error:[/] {escape(problem)}", highlight=False)
    if problems or any(p["status"] == "failed" for p in infos):
        raise typer.Exit(1)


def _receiver(a: Any, host: str | None = None, port: int | None = None, *, always: bool = False) -> Any:
    """The receiver for the configured push sources, or None when no source receives pushes
    (unless `always`: `run` serves /healthz and /metrics in every deployment)."""
    from ..receiver import Receiver, push_sources

    try:
        routes = push_sources(a.config, a.hooks, a.store)
    except ConfigError as exc:
        raise fail(str(exc), "fix the file, then run `crmbridge check`") from None
    if not routes and not always:
        return None
    settings = a.config.receiver.model_copy(
        update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
    )
    return Receiver(a.store, a.hooks, routes, settings, config=a.config)


@app.command()
def run(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Run every source on its schedule until SIGTERM/SIGINT (finishes the current batch).

    When a configured source receives pushes (Ctrip, Fliggy direct connect), the receiver
    runs alongside, on [receiver] host and port."""
    from ..engine.scheduler import run_scheduler

    a = open_app(config)
    try:
        preflight(a)
    except ConfigError as exc:
        raise fail(str(exc), "fix the file, then run `crmbridge check`") from None
    configure_logging(a.config.logging)
    receiver = _receiver(a, always=True)
    try:
        run_scheduler(a, out, receiver=receiver)
    except OSError as exc:
        s = a.config.receiver
        raise fail(
            f"cannot listen on {s.host}:{s.port}: {exc.strerror}", "change [receiver] port", 1
        ) from None


@app.command()
def serve(
    config: ConfigOpt = DEFAULT_CONFIG,
    host: Annotated[str | None, typer.Option(help="address to listen on ([receiver] host)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on ([receiver] port)")] = None,
    api: Annotated[
        bool, typer.Option("--api", help="also serve the staff API ([privacy] api_host/api_port)")
    ] = False,
    api_port: Annotated[int | None, typer.Option(help="port of the staff API ([privacy] api_port)")] = None,
) -> None:
    """Run the receiver for push sources (and, with --api, the staff API) until SIGTERM/SIGINT."""
    a = open_app(config)
    configure_logging(a.config.logging)
    receiver = _receiver(a, host, port)
    if receiver is None and not api:
        raise fail(
            f"no source in {config} receives pushes",
            'add a push source (e.g. type = "ctrip" with a path), use `crmbridge run`, '
            "or serve the staff API (--api)",
        )
    staff_api = _staff_api(a, api_port) if api else None
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        out.print(f"received signal {signum}: finishing the current batch, then exiting")
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    servers = [s for s in (receiver, staff_api) if s is not None]
    started = []
    for srv in servers:
        try:
            srv.start()
            started.append(srv)
        except OSError as exc:
            for s in started:
                s.stop()
            raise fail(
                f"cannot listen on {srv.url}: {exc.strerror}",
                "pick another port, or stop what is using it",
                code=1,
            ) from None
    if receiver is not None:
        paths = ", ".join(f"{r.path} ({r.ctx.name})" for r in receiver.routes)
        out.print(f"receiving on {receiver.url}: {paths}; SIGTERM or Ctrl-C to stop")
    if staff_api is not None:
        out.print(f"staff API on {staff_api.url}/api/v1 (OpenAPI at /api/v1/openapi.json)")
    stop.wait()
    for srv in started:
        srv.stop()
    out.print("stopped cleanly")


def _staff_api(a: Any, port: int | None) -> Any:
    from ..insights.config import AlertsConfig, SegmentsConfig
    from ..insights.prearrival import hotel_today, plan_arrivals, pms_sources
    from ..staff_api import StaffApiServer, build_app
    from .privacy import segment_of

    seg_cfg = a.config.segments or SegmentsConfig()

    def arrivals(day: Any) -> list[dict[str, Any]]:
        plans = []
        for src in pms_sources(a.config, a.hooks):
            plans += plan_arrivals(
                a.store, a.hooks, src, a.config.alerts or AlertsConfig(), seg_cfg, day, days=0
            )
        return [p.as_dict() for p in plans]

    app_ = build_app(
        a.store,
        trust=_trust(a),
        segment_of=segment_of(a),
        arrivals=arrivals,
        today=lambda: hotel_today(a.config),
    )
    p = a.config.privacy
    return StaffApiServer(app_, p.api_host, p.api_port if port is None else port)


app.add_typer(alerts_app, name="alerts")
app.command("new-adapter")(new_adapter)
segments_app = typer.Typer(
    help="Segments: the distribution (no arguments), or `export SEGMENT --purpose marketing`.",
    invoke_without_command=True,
    pretty_exceptions_show_locals=False,
)


@segments_app.callback()
def _segments(
    ctx: typer.Context, config: ConfigOpt = DEFAULT_CONFIG, when: DateOpt = None, as_json: JsonOpt = False
) -> None:
    """Segment and tag distribution over every guest in the store."""
    if not ctx.invoked_subcommand:
        segments_command(config, when, as_json)


segments_app.command("export")(segments_export)
app.add_typer(segments_app, name="segments")
app.add_typer(staff_app, name="staff")
app.add_typer(audit_app, name="audit")
app.add_typer(privacy_app, name="privacy")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")

guests_app = typer.Typer(
    help="Guest profiles (PII masked).", invoke_without_command=True, pretty_exceptions_show_locals=False
)
app.add_typer(guests_app, name="guests")


@guests_app.callback()
def guests(
    ctx: typer.Context,
    config: ConfigOpt = DEFAULT_CONFIG,
    as_json: JsonOpt = False,
    limit: Annotated[int, typer.Option(help="at most this many")] = 50,
    as_name: AsOpt = None,
) -> None:
    """List guest profiles with the (source, source id) of every linked record."""
    if ctx.invoked_subcommand:
        return
    a = open_app(config)
    svc = access(a, as_name)
    views = run_access(lambda: svc.listing(limit))
    if as_json:
        _dump(views)
        return
    t = Table("guest", "name", "phones", "emails", "records", "reservations")
    for v in views:
        t.add_row(
            v["guest_id"][:8],
            v.get("name", ""),
            ", ".join(v.get("phones", [])),
            ", ".join(v.get("emails", [])),
            ", ".join(f"{r['source']}/{r['source_id']}" for r in v["records"]),
            str(v.get("reservations", "")),
        )
    out.print(t)


def _trust(a: Any) -> dict[str, int]:
    return dict(a.store.policy.source_trust)


def _one_guest(conn: Any, guest_id: str) -> str:
    q = select(guests_table.c.id).where(guests_table.c.id.startswith(guest_id))
    ids = [r.id for r in conn.execute(q.limit(2))]
    if len(ids) != 1:
        raise fail(
            f"{'no' if not ids else 'more than one'} guest matches {guest_id!r}",
            "use an id from `crmbridge guests`",
        )
    return ids[0]


@guests_app.command("show")
def guests_show(
    guest_id: str,
    config: ConfigOpt = DEFAULT_CONFIG,
    as_json: JsonOpt = False,
    unmask: Annotated[bool, typer.Option("--unmask", help="show values in full (needs --reason)")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="why you look (kept in the audit)")] = None,
    as_name: AsOpt = None,
) -> None:
    """One guest profile as your role may see it, with the provenance of every value and its
    merge history; masked unless --unmask with a --reason. Every call is audited."""
    a = open_app(config)
    svc = access(a, as_name)
    with a.store.engine.connect() as conn:
        gid = _one_guest(conn, guest_id)
        merged_into = conn.execute(
            select(guests_table.c.merged_into).where(guests_table.c.id == gid)
        ).scalar_one_or_none()
    if merged_into:
        raise fail(
            f"guest {gid} was merged into {merged_into}",
            f"see `crmbridge guests show {merged_into}`, or undo it with `crmbridge guests unmerge {gid}`",
        )
    view = run_access(lambda: svc.profile(gid, unmask=unmask, reason=reason))
    if as_json:
        _dump(view)
    else:
        out.print_json(data=view)


@guests_app.command("review")
def guests_review(
    item: Annotated[int | None, typer.Argument(help="a review item number, to resolve it")] = None,
    merge: Annotated[bool, typer.Option("--merge", help="the two are one guest: merge them")] = False,
    apart: Annotated[bool, typer.Option("--apart", help="different guests: never merge them")] = False,
    config: ConfigOpt = DEFAULT_CONFIG,
    as_json: JsonOpt = False,
    limit: Annotated[int, typer.Option(help="at most this many")] = 50,
    as_name: AsOpt = None,
) -> None:
    """List the pairs waiting for a person, or resolve one: `guests review 3 --merge|--apart`."""
    from ..identity.merging import IdentityError, resolve_review
    from ..store.writer import utcnow

    a = open_app(config)
    svc = access(a, as_name)
    if item is None:
        if merge or apart:
            raise fail("--merge/--apart need a review item number", "list them: `crmbridge guests review`")
        rows = run_access(lambda: svc.review_queue(limit))
        if as_json:
            _dump(rows)
            return
        if not rows:
            out.print("the review queue is empty")
            return
        t = Table("item", "score", "record", "its guest", "candidate guest", "agreements")
        for r in rows:
            t.add_row(
                str(r["item"]),
                f"{r['score']:.1f}",
                escape(str(r["record"])),
                f"{r['record_guest']['guest_id'][:8]} {r['record_guest'].get('name', '')}",
                f"{r['candidate_guest']['guest_id'][:8]} {r['candidate_guest'].get('name', '')}",
                ", ".join(f"{k}={v}" for k, v in r["agreements"].items()),
            )
        out.print(t)
        out.print("resolve one with `crmbridge guests review ITEM --merge` or `--apart`")
        return
    if merge == apart:
        raise fail("say --merge or --apart (exactly one)")
    run_access(lambda: svc.require("reviews.resolve"))
    try:
        with a.store.engine.begin() as conn:
            result = resolve_review(conn, item, merge, utcnow())
    except IdentityError as exc:
        raise fail(str(exc), "list open items with `crmbridge guests review`") from None
    if as_json:
        _dump(result)
    elif merge:
        out.print(f"merged: guest {result.get('survivor', '?')} (audit #{result.get('merge_id', '-')})")
    else:
        out.print(f"kept apart: review item {item} closed; automatic matching will not join them")


@guests_app.command("weights")
def guests_weights(config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Estimate m/u weights from this hotel's stored records (EM, no labels); prints a TOML
    [identity.weights] table to review and paste into the config."""
    from ..identity.training import estimate_from_features, stored_features, weights_toml

    a = open_app(config)
    policy = a.store.policy
    with a.store.engine.connect() as conn:
        feats = list(stored_features(conn, a.store.keyring, policy))
    if len(feats) < 100:
        raise fail(f"only {len(feats)} records stored: too few to estimate weights from", code=1)
    weights = estimate_from_features(feats, policy.weights, max_bucket=policy.max_bucket)
    out.print(
        f"# estimated from {len(feats)} records; current thresholds: review "
        f"{policy.review_threshold}, merge {policy.merge_threshold}",
        markup=False,
    )
    out.print(weights_toml(weights), markup=False, highlight=False, soft_wrap=True)


@guests_app.command("unmerge")
def guests_unmerge(guest_id: str, config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """Undo the merge that absorbed guest ID: exactly its records go back to it."""
    from ..identity.merging import IdentityError, unmerge
    from ..store.writer import utcnow

    a = open_app(config)
    try:
        with a.store.engine.begin() as conn:
            gid = _one_guest(conn, guest_id)
            result = unmerge(conn, gid, utcnow())
    except IdentityError as exc:
        raise fail(str(exc), "`crmbridge guests show SURVIVOR` lists the merges it absorbed") from None
    if as_json:
        _dump(result | {"guest_id": gid})
    else:
        out.print(
            f"unmerged {gid} from {result['survivor']}: {result['records']} record(s) restored "
            f"(audit #{result['unmerge_id']}); they will not be merged again automatically"
        )


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="where the demo keeps its files")] = Path("var/demo"),
) -> None:
    """Import invented guests through the file adapter into embedded SQLite and show the result."""
    from .demo import run_demo

    run_demo(workdir, out)


VERBOSE_FLAGS = ("-v", "--verbose")


def _verbose_first(argv: list[str]) -> list[str]:
    """`crmbridge sync -v` as well as `crmbridge -v sync`: click takes the app's own options
    only before the subcommand, so the flag is moved there (nothing after `--` is touched)."""
    end = argv.index("--") if "--" in argv else len(argv)
    flags = [a for a in argv[:end] if a in VERBOSE_FLAGS]
    if not flags:
        return argv
    return ["--verbose", *(a for a in argv[:end] if a not in VERBOSE_FLAGS), *argv[end:]]


def main() -> None:
    app(args=_verbose_first(sys.argv[1:]), prog_name="crmbridge")
