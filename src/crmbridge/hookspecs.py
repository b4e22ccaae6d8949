"""Every hook a crmbridge plugin can implement.

Plugins mark implementations with ``crmbridge.hookimpl`` and register themselves in the
``crmbridge`` entry-point group. Hooks are always called with keyword arguments, so adding an
argument to a spec never breaks an older plugin: pluggy passes only what an implementation
names. The engine never calls these directly; it goes through ``crmbridge.plugins.Hooks``.

Fetch hooks are ``firstresult``: every adapter sees every call and answers only for a source
whose ``source.type`` is one of its own adapter types, returning ``None`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from .adapters.base import (
        AdapterType,
        Batch,
        DemoSource,
        PushReply,
        PushRequest,
        PushResult,
        SourceContext,
    )
    from .insights.rules import AlertRule
    from .models import Alert, Feedback, FolioLine, GuestProfile, PosCheck, Reservation, Stay

hookspec = pluggy.HookspecMarker("crmbridge")
hookimpl = pluggy.HookimplMarker("crmbridge")


@hookspec
def crmbridge_adapter_types() -> Iterable[AdapterType]:
    """Declare the adapter types this plugin provides.

    Return an iterable of ``AdapterType(name, config_model, capabilities, description)``.
    ``name`` is what hotel IT writes as ``type = "..."`` in a ``[sources.NAME]`` table;
    ``config_model`` is a pydantic model validating that table's own keys; ``capabilities``
    lists the streams the adapter can fetch (``reservations``, ``stays``, ``folios``,
    ``profiles``, ``pos_checks``) and ``push_alerts`` if it can receive alerts. Two plugins declaring the
    same name is a configuration error reported by ``crmbridge plugins``.
    """


@hookspec(firstresult=True)
def crmbridge_fetch_reservations(
    source: SourceContext, cursor: str | None, full: bool
) -> Iterator[Batch[Reservation]] | None:
    """Yield reservations (each with its primary guest) changed after ``cursor``.

    Yield ``Batch(records, rejects, cursor)`` objects in source order: ``cursor`` is the
    position *after* the batch and is committed in the same transaction as its records, so it
    must be enough to resume from. ``full=True`` asks for everything regardless of cursor.
    A record that cannot be mapped goes into ``rejects`` with its reason and raw payload;
    never raise for one bad record. Raise only when the source itself fails (the run is then
    marked failed and resumes from the last committed batch).
    """


@hookspec(firstresult=True)
def crmbridge_fetch_stays(
    source: SourceContext, cursor: str | None, full: bool
) -> Iterator[Batch[Stay]] | None:
    """Yield stays (actual check-in/out and room) changed after ``cursor``.

    Same batch and cursor contract as ``crmbridge_fetch_reservations``. A stay names its
    reservation by the reservation's source id in the same source.
    """


@hookspec(firstresult=True)
def crmbridge_fetch_folios(
    source: SourceContext, cursor: str | None, full: bool
) -> Iterator[Batch[FolioLine]] | None:
    """Yield folio lines (postings) changed after ``cursor``.

    Same batch and cursor contract as ``crmbridge_fetch_reservations``. Amounts are
    ``Money`` with a Decimal amount and an ISO currency; never floats.
    """


@hookspec(firstresult=True)
def crmbridge_fetch_profiles(
    source: SourceContext, cursor: str | None, full: bool
) -> Iterator[Batch[GuestProfile]] | None:
    """Yield guest profiles changed after ``cursor``.

    Same batch and cursor contract as ``crmbridge_fetch_reservations``. Each profile is one
    source's view; the store links it to a guest by identity resolution.
    """


@hookspec(firstresult=True)
def crmbridge_fetch_pos_checks(
    source: SourceContext, cursor: str | None, full: bool
) -> Iterator[Batch[PosCheck]] | None:
    """Yield restaurant and bar checks (with their lines and tenders) changed after ``cursor``.

    Same batch and cursor contract as ``crmbridge_fetch_reservations``. A check is keyed by
    its source id (stable across reopen and close), carries its business date as the POS
    counts it (a check closed after midnight before the day's rollover belongs to the
    previous day), amounts as ``Money`` (returns and discounts negative), and marks tenders
    that charge a room. Checks carry no guest identity: the core links them to stays
    through PMS folio postings or room and time (``crmbridge.store.pos_links``).
    """


@hookspec(firstresult=True)
def crmbridge_push_alerts(source: SourceContext, alerts: list[Alert]) -> list[PushResult] | None:
    """Deliver alerts and notes to the PMS behind ``source``; return one result per alert.

    Must be idempotent: pushing an alert whose fingerprint the PMS already holds is a no-op
    reported as ``PushResult(status="unchanged")``; an alert whose (target, pms_id, rule) slot
    holds different content replaces it (``"replaced"``); ``action="retire"`` removes what the
    slot holds (``"retired"``). Record outcomes in ``source.ledger``. Answer only for your own
    adapter types.
    """


@hookspec
def crmbridge_demo_sources(workdir: Path) -> Iterable[DemoSource]:
    """Offer sources for ``crmbridge demo``, each with the simulator it needs.

    Return ``DemoSource(name, type, options, simulator)`` objects: ``options`` is the
    ``[sources.NAME]`` table the demo uses (validated by your config model), ``simulator`` a
    context manager the demo enters before syncing and leaves afterwards (start a loopback
    server there; bind to 127.0.0.1 and port 0). ``workdir`` is the demo's scratch folder.
    The demo must stay offline and finish in seconds. A push source sets ``sender`` instead:
    the demo serves it on a loopback receiver and calls ``sender(url)`` with its route's URL.
    """


@hookspec(firstresult=True)
def crmbridge_receive(source: SourceContext, request: PushRequest) -> PushReply | None:
    """Answer one HTTP request that a push source (Ctrip, Fliggy direct connect) sent.

    Called by the receiver for sources whose adapter type lists the ``receive`` capability
    and whose config has a ``path``. Authenticate the request (constant-time comparison),
    parse it safely (no entity expansion, no external DTDs) and, for an accepted message,
    ``source.inbox.put(...)`` it **before** returning: ``put`` commits, so the sender is
    only told "success" once the message is durable. Return the reply in the sender's own
    protocol (``PushReply(status, body, content_type, accepted=inbox ids)``); bad input or a
    wrong credential is an error reply, never an exception. The receiver then runs the
    source's fetch hooks, which turn pending inbox messages into records and list their ids
    in ``Batch.ack``. Return ``None`` when ``source.type`` is not yours.
    """


@hookspec(firstresult=True)
def crmbridge_fetch_feedback(
    source: SourceContext, cursor: str | None, full: bool
) -> Iterator[Batch[Feedback]] | None:
    """Yield batches of ``Feedback``: ratings, complaints, reviews, survey answers.

    Same contract as ``crmbridge_fetch_reservations``. Each item names its stay by
    ``reservation_source_id`` (with ``reservation_source`` when the reservation lives in another
    source, e.g. the PMS) or ``stay_source_id``; the alert rules read complaints and low ratings
    through that link. ``text`` is the guest's own words and is stored encrypted.
    """


@hookspec
def crmbridge_register_alert_rules() -> Iterable[AlertRule]:
    """Return alert rules to add to the built-in ones.

    A rule has a unique ``name``, a ``settings`` pydantic model (its ``[alerts.rules.NAME]``
    table: ``enabled`` plus its thresholds) and ``evaluate(arrival, guest, settings, lang)``,
    returning a ``Finding(text, evidence)`` or ``None``. ``arrival`` is the reservation being
    prepared, ``guest`` the unified profile with its history (``GuestFacts``). The text is
    what the front desk reads in the PMS: short, in ``lang`` ("zh" or "en"), never a
    document number, full phone number or e-mail; word health matters minimally.
    """
