"""`crmbridge alerts preview|push` and `crmbridge segments`: what the front desk will see."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from ..config import DEFAULT_CONFIG
from ..insights.config import SegmentsConfig
from ..insights.facts import load_facts
from ..insights.prearrival import RuleConfigError, hotel_today, run_prearrival
from ..insights.segments import segment
from ..store.schema import guests as guests_table
from .context import console, fail, open_app

alerts_app = typer.Typer(help="Pre-arrival alerts pushed into the PMS.", no_args_is_help=True)
out = console()
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="config file")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
DateOpt = Annotated[str | None, typer.Option("--date", help="first arrival day, YYYY-MM-DD (default today)")]
DaysOpt = Annotated[int | None, typer.Option("--days", help="arrivals up to date + N days")]
HotelOpt = Annotated[str | None, typer.Option("--hotel", help="only this hotel code")]


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise fail(f"--date {value!r} is not a date", "write it as YYYY-MM-DD") from None


def _run(config: Path, when: str | None, days: int | None, hotel: str | None, push: bool) -> Any:
    a = open_app(config)
    try:
        return run_prearrival(a.config, a.hooks, a.store, today=_day(when), days=days, hotel=hotel, push=push)
    except RuleConfigError as exc:
        raise fail(str(exc), "fix [alerts] in the config; `crmbridge alerts rules` lists the rules") from None


@alerts_app.command("preview")
def preview(
    config: ConfigOpt = DEFAULT_CONFIG,
    when: DateOpt = None,
    days: DaysOpt = None,
    hotel: HotelOpt = None,
    as_json: JsonOpt = False,
    as_name: Annotated[str | None, typer.Option("--as", help="act as this staff member")] = None,
) -> None:
    """Show, per arrival, exactly the alerts the front desk will see, and why. Pushes nothing."""
    from .privacy import access, run_access

    results = _run(config, when, days, hotel, push=False)
    # what the desk will see is personal data: checked against the role and audited
    svc = access(open_app(config), as_name)
    run_access(lambda: svc.arrivals([p.as_dict() for _, plans, _ in results for p in plans]))
    if as_json:
        payload = [p.as_dict() for _, plans, _ in results for p in plans]
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not results:
        out.print('no source can take alerts: configure a PMS source (e.g. type = "opera")')
    for name, plans, _ in results:
        t = Table("reservation", "stay", "rule", "the desk sees", "why", title=f"arrivals in {name}")
        for p in plans:
            stay = f"{p.arrival.arrival:%m-%d}→{p.arrival.departure:%m-%d}"
            if not p.alerts:
                t.add_row(p.arrival.source_id, stay, "-", "", "")
            for i, a in enumerate(p.alerts):
                t.add_row(
                    p.arrival.source_id if i == 0 else "",
                    stay if i == 0 else "",
                    a.rule,
                    escape(a.alert.text),
                    escape("; ".join(a.finding.evidence)),
                )
        out.print(t)


@alerts_app.command("push")
def push(
    config: ConfigOpt = DEFAULT_CONFIG,
    when: DateOpt = None,
    days: DaysOpt = None,
    hotel: HotelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Push new and changed alerts of the coming arrivals; retire those no longer true."""
    results = _run(config, when, days, hotel, push=True)
    summaries = [s.as_dict() for _, _, s in results if s is not None]
    if as_json:
        typer.echo(json.dumps(summaries, ensure_ascii=False, indent=2))
    else:
        for s in summaries:
            out.print(
                f"{s['pms_source']}: {s['arrivals']} arrivals; {s['created']} created, {s['replaced']} "
                f"replaced, {s['unchanged']} unchanged, {s['retired']} retired, {s['failed']} failed"
            )
            for d in s["details"]:
                out.print(f"  [red]failed[/] {escape(d)}")
    if any(s["failed"] for s in summaries):
        raise typer.Exit(1)


@alerts_app.command("rules")
def rules(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """List the alert rules (built-in and from plugins) and whether each is enabled."""
    a = open_app(config)
    cfg = a.config.alerts
    rows = [
        {
            "rule": name,
            "enabled": rule.settings_model.model_validate(cfg.rules.get(name, {}) if cfg else {}).enabled,
            "description": rule.description,
        }
        for name, rule in sorted(a.hooks.alert_rules().items())
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    t = Table("rule", "enabled", "what it tells the desk")
    for r in rows:
        t.add_row(r["rule"], "yes" if r["enabled"] else "no", r["description"])
    out.print(t)


def segments_command(
    config: ConfigOpt = DEFAULT_CONFIG, when: DateOpt = None, as_json: JsonOpt = False
) -> None:
    """Segment and tag distribution over every guest in the store."""
    a = open_app(config)
    today = _day(when) or hotel_today(a.config)
    cfg = a.config.segments or SegmentsConfig()
    tiers: Counter[str] = Counter()
    types: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    n = 0
    with a.store.engine.connect() as conn:
        ids = [
            r.id for r in conn.execute(select(guests_table.c.id).where(guests_table.c.merged_into.is_(None)))
        ]
        for i in range(0, len(ids), 2000):
            for facts in load_facts(conn, a.store.keyring, ids[i : i + 2000]).values():
                seg = segment(facts, today, cfg)
                n += 1
                tiers[seg.value_tier] += 1
                types[seg.guest_type] += 1
                tags.update(seg.tags)
    result = {
        "guests": n,
        "as_of": today.isoformat(),
        "value_tiers": dict(sorted(tiers.items())),
        "guest_types": dict(types.most_common()),
        "tags": dict(tags.most_common()),
    }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    out.print(f"{n} guests, as of {today}")
    for title, counter in (("value tier", tiers), ("guest type", types), ("tag", tags)):
        t = Table(title, "guests", "share")
        for k, v in sorted(counter.items(), key=lambda kv: -kv[1]):
            t.add_row(k, str(v), f"{v / n:.1%}" if n else "-")
        out.print(t)
