"""The pre-arrival job: desired alerts per arrival, diffed against the push ledger, pushed.

For each PMS source, the arrivals of the next N days get their alerts computed from the
unified profiles. Only alerts that are new or changed since the last push go out; alerts
whose reason disappeared are retired. Re-running with nothing changed pushes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select

from ..adapters.base import PushResult, SourceContext
from ..models import Alert
from ..plugins import Hooks
from ..store.guest_store import GuestStore
from ..store.schema import profile_records, reservations
from .builtin_rules import label
from .config import AlertsConfig, SegmentsConfig
from .facts import LIVE, GuestFacts, Visit, _visit, load_facts
from .rules import AlertRule, Finding, RuleInput, scrub
from .segments import Segment, segment

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger(__name__)
# An alert whose code starts so is a profile preference `PREF:<category>:<code>`.
PREFERENCE_PREFIX = "PREF:"


class RuleConfigError(ValueError):
    pass


@dataclass
class PlannedAlert:
    rule: str
    finding: Finding
    alert: Alert


@dataclass
class ArrivalPlan:
    pms_source: str
    arrival: Visit
    guest_id: str | None
    segment: Segment | None
    alerts: list[PlannedAlert] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    profile_id: str | None = None  # the guest's profile id in this PMS, when it has one

    def as_dict(self) -> dict[str, Any]:
        a = self.arrival
        return {
            "pms_source": self.pms_source,
            "reservation": a.source_id,
            "hotel": a.hotel_code,
            "arrival": a.arrival.isoformat(),
            "departure": a.departure.isoformat(),
            "guest_id": self.guest_id,
            "profile_id": self.profile_id,
            "segment": self.segment.as_dict() if self.segment else None,
            "alerts": [
                {
                    "rule": p.rule,
                    "target": p.alert.target,
                    "code": p.alert.code,
                    "area": p.alert.area,
                    "text": p.alert.text,
                    "evidence": p.finding.evidence,
                }
                for p in self.alerts
            ],
            "errors": self.errors,
        }


@dataclass
class PushSummary:
    pms_source: str
    arrivals: int = 0
    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    retired: int = 0
    failed: int = 0
    details: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def enabled_rules(hooks: Hooks, cfg: AlertsConfig) -> list[tuple[AlertRule, Any]]:
    rules = hooks.alert_rules()
    unknown = set(cfg.rules) - set(rules)
    if unknown:
        raise RuleConfigError(
            f"[alerts.rules] names unknown rule(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(rules))}"
        )
    out = []
    for name, rule in rules.items():
        try:
            settings = rule.settings_model.model_validate(cfg.rules.get(name, {}))
        except ValidationError as exc:
            raise RuleConfigError(f"[alerts.rules.{name}]: {exc.errors(include_input=False)}") from None
        if settings.enabled:
            out.append((rule, settings))
    return out


def _arrivals(
    store: GuestStore, pms_source: str, start: date, end: date, hotel: str | None
) -> list[tuple[Visit, str | None, str | None]]:
    q = (
        select(
            reservations,
            profile_records.c.guest_id,
            profile_records.c.source.label("guest_source"),
            profile_records.c.source_id.label("guest_source_id"),
        )
        .outerjoin(profile_records, profile_records.c.id == reservations.c.guest_record_id)
        .where(
            reservations.c.source == pms_source,
            reservations.c.arrival >= start,
            reservations.c.arrival <= end,
            reservations.c.status.in_(LIVE),
        )
        .order_by(reservations.c.arrival, reservations.c.source_id)
    )
    if hotel:
        q = q.where(reservations.c.hotel_code == hotel)
    with store.engine.connect() as conn:
        return [
            (
                _visit(r, store.keyring),
                r.guest_id,
                r.guest_source_id if r.guest_source == pms_source else None,
            )
            for r in conn.execute(q)
        ]


def plan_arrivals(
    store: GuestStore,
    hooks: Hooks,
    pms_source: str,
    cfg: AlertsConfig,
    seg_cfg: SegmentsConfig,
    today: date,
    *,
    days: int | None = None,
    hotel: str | None = None,
) -> list[ArrivalPlan]:
    rules = enabled_rules(hooks, cfg)
    end = today + timedelta(days=cfg.lookahead_days if days is None else days)
    arrivals = _arrivals(store, pms_source, today, end, hotel)
    with store.engine.connect() as conn:
        facts = load_facts(conn, store.keyring, {g for _, g, _ in arrivals if g})
    plans = []
    for visit, gid, pid in arrivals:
        guest = facts.get(gid) if gid else None
        if guest is None:  # a reservation without a guest record still gets its own rules
            guest = GuestFacts(gid or "", visits=[visit])
        guest.segment = segment(guest, today, seg_cfg)
        plan = ArrivalPlan(pms_source, visit, gid, guest.segment, profile_id=pid)
        for rule, settings in rules:
            try:
                finding = rule.evaluate(RuleInput(visit, guest, today, cfg.language), settings)
            except Exception as exc:  # one faulty (plugin) rule must not silence the others
                # The type only: a rule's exception message may quote the guest data it read.
                log.error(
                    "alert rule %s failed on %s/%s: %s",
                    rule.name, pms_source, visit.source_id, type(exc).__name__,
                )  # fmt: skip
                plan.errors.append(f"{rule.name}: {type(exc).__name__}")
                continue
            if finding is None:
                continue
            for alert in _alerts_for(pms_source, visit, pid, rule.name, finding, settings, cfg):
                plan.alerts.append(PlannedAlert(rule.name, finding, alert))
        plans.append(plan)
    return plans


def _alerts_for(
    pms_source: str,
    visit: Visit,
    profile_id: str | None,
    rule: str,
    finding: Finding,
    settings: Any,
    cfg: AlertsConfig,
) -> list[Alert]:
    """What one finding becomes in the PMS, by the rule's `target`: a reservation alert, and/or
    a CRM note on the guest's profile with one profile preference per (category, code)."""
    target = getattr(settings, "target", "reservation")
    text = scrub(finding.text, cfg.max_chars)
    out = []
    if target in ("reservation", "both"):
        out.append(
            Alert(target="reservation", pms_source=pms_source, pms_id=visit.source_id, code=cfg.code,
                  area=cfg.area, text=text, rule=rule)
        )  # fmt: skip
    if target in ("profile", "both") and profile_id:
        out.append(
            Alert(
                target="profile",
                pms_source=pms_source,
                pms_id=profile_id,
                code=cfg.code,
                text=text,
                rule=rule,
            )
        )
        for category, code in finding.preferences:
            out.append(
                Alert(target="profile", pms_source=pms_source, pms_id=profile_id,
                      code=f"{PREFERENCE_PREFIX}{category}:{code}", text=label(code, cfg.language),
                      rule=f"{rule}:{category}:{code}")
            )  # fmt: skip
    return out


def push_plans(
    store: GuestStore, hooks: Hooks, ctx: SourceContext, plans: Iterable[ArrivalPlan]
) -> PushSummary:
    """Push what is new or changed, retire what no longer applies; record it in the ledger."""
    ledger = ctx.ledger or store.ledger(ctx.name)
    summary = PushSummary(ctx.name)
    desired: dict[tuple[str, str, str], Alert] = {}
    arrivals: set[str] = set()
    profiles: set[str] = set()
    for plan in plans:
        summary.arrivals += 1
        arrivals.add(plan.arrival.source_id)
        if plan.profile_id:
            profiles.add(plan.profile_id)
        for p in plan.alerts:
            desired[(p.alert.target, p.alert.pms_id, p.alert.rule)] = p.alert
    outgoing: list[Alert] = []
    for key, alert in desired.items():
        entry = ledger.get(*key)
        if entry and entry.status == "sent" and entry.fingerprint == ledger.fingerprint(alert):
            summary.unchanged += 1
        else:
            outgoing.append(alert)
    for e in ledger.entries():
        key = (e.target, e.pms_id, e.rule)
        planned = e.pms_id in (profiles if e.target == "profile" else arrivals)
        if planned and key not in desired and e.status not in ("retired", "failed"):
            outgoing.append(
                Alert(
                    target=e.target,
                    pms_source=ctx.name,
                    pms_id=e.pms_id,
                    code="-",
                    text="",
                    rule=e.rule,
                    action="retire",
                )
            )
    if not outgoing:
        return summary
    results = hooks.push_alerts(ctx, outgoing)
    for alert, res in zip(outgoing, results, strict=True):
        _count(summary, alert, res)
        _settle_ledger(ledger, alert, res)
    return summary


def _count(summary: PushSummary, alert: Alert, res: PushResult) -> None:
    status = res.status
    setattr(summary, status, getattr(summary, status) + 1)
    if status == "failed":
        summary.details.append(f"{alert.pms_id}/{alert.rule}: {res.detail}")


def _settle_ledger(ledger: Any, alert: Alert, res: PushResult) -> None:
    """Adapters record their pushes; make sure the ledger agrees even if one did not."""
    entry = ledger.get(alert.target, alert.pms_id, alert.rule)
    if res.status == "failed":
        return
    if alert.action == "retire":
        if entry is not None and entry.status != "retired":
            ledger.retire(alert.target, alert.pms_id, alert.rule)
    elif entry is None or entry.fingerprint != ledger.fingerprint(alert) or entry.status != "sent":
        ledger.record(alert, "sent", external_id=entry.external_id if entry else None)


def pms_sources(cfg: Config, hooks: Hooks) -> list[str]:
    """The sources alerts go to: `[alerts] push_to`, or every source that can take alerts."""
    alerts = cfg.alerts or AlertsConfig()
    if alerts.push_to:
        missing = [n for n in alerts.push_to if n not in cfg.sources]
        if missing:
            raise RuleConfigError(f"[alerts] push_to names unknown source(s): {', '.join(missing)}")
        return list(alerts.push_to)
    types = hooks.adapter_types()
    return [
        name
        for name, src in cfg.sources.items()
        if src.type in types and "push_alerts" in types[src.type].capabilities
    ]


def now_in(zone: ZoneInfo) -> datetime:
    """The current time in `zone`; tests replace this to stand at a given hour."""
    return datetime.now(zone)


def hotel_today(cfg: Config) -> date:
    return now_in(ZoneInfo(cfg.timezone)).date()


def run_prearrival(
    cfg: Config,
    hooks: Hooks,
    store: GuestStore,
    *,
    today: date | None = None,
    days: int | None = None,
    hotel: str | None = None,
    push: bool = True,
) -> list[tuple[str, list[ArrivalPlan], PushSummary | None]]:
    """Plan (and unless `push=False`, push) the alerts of every PMS source's arrivals."""
    from ..engine.sources import build_source  # engine imports plugins, which import insights

    day = today or hotel_today(cfg)
    enabled_rules(hooks, cfg.alerts or AlertsConfig())  # a config mistake is an error even with no PMS
    out = []
    for name in pms_sources(cfg, hooks):
        alerts, segs = cfg.alerts or AlertsConfig(), cfg.segments or SegmentsConfig()
        plans = plan_arrivals(store, hooks, name, alerts, segs, day, days=days, hotel=hotel)
        summary = None
        if push:
            ctx, _ = build_source(cfg, cfg.sources[name], hooks, store)
            summary = push_plans(store, hooks, ctx, plans)
        out.append((name, plans, summary))
    return out
