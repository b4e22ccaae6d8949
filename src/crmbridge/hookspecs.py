"""Every hook a crmbridge plugin can implement (plugin API 1.0, see ``crmbridge.api``).

Plugins import ``hookimpl`` and the types they need from ``crmbridge.api``, mark their
implementations with ``@hookimpl`` and register the module in the ``crmbridge`` entry-point
group. Hooks are always called with keyword arguments, so adding an argument to a spec never
breaks an older plugin: pluggy passes only what an implementation names. A function named
``crmbridge_*`` that matches no spec here (a misspelling) makes the plugin fail to load, and
``crmbridge plugins`` says which name. The engine never calls hooks directly; it goes through
the typed facade ``crmbridge.plugins.Hooks``.

Adapters are objects, not hooks: ``crmbridge_adapter_types`` returns ``AdapterType`` objects
carrying their config model, capabilities and callables (``fetch`` per stream, ``receive``,
``push_alerts``, ``check``), and the core calls them by type name. No hook is ever asked
"is this source yours?".

The contract of the callables an ``AdapterType`` carries:

``fetch[stream](source, cursor, full)``
    Yield ``Batch(records, cursor, rejects, ack)`` objects in source order. ``cursor`` is the
    position *after* the batch and is committed in the same transaction as its records, so
    it must be enough to resume from; ``full=True`` asks for everything regardless of the
    cursor. A record that cannot be mapped goes into ``rejects`` with its reason (field
    names, never values) and its raw payload; never raise for one bad record. Raise only when
    the source itself fails (the run is marked failed and resumes from the last committed
    batch). Streams: ``reservations`` (each with its primary guest), ``profiles``, ``stays``
    (named by their reservation's source id), ``folios`` (``Money`` amounts, never floats),
    ``feedback`` (named by ``reservation_source_id`` or ``stay_source_id``; text stored
    encrypted), ``pos_checks`` (keyed by a stable check id, business date as the POS counts
    it, room-charge tenders marked).

``receive(source, request)``
    Answer one HTTP request a push source sent (capability ``receive``; the source's config
    has a ``path``). Authenticate it (constant-time comparison), parse it safely (no entity
    expansion, no external DTDs) and, for an accepted message, ``source.inbox.put(...)`` it
    **before** returning: ``put`` commits, so the sender is told "success" only once the
    message is durable. Return ``PushReply(status, body, content_type, accepted=inbox ids)``
    in the sender's own protocol; bad input or a wrong credential is an error reply, never an
    exception. The receiver then runs the source's fetch callables, which turn pending inbox
    messages into records and list their ids in ``Batch.ack``.

``push_alerts(source, alerts)``
    Deliver alerts and notes to the PMS; return one ``PushResult`` per alert. Idempotent:
    an alert whose fingerprint the PMS already holds is ``"unchanged"``; a (target, pms_id,
    rule) slot holding other content is ``"replaced"``; ``action="retire"`` removes it
    (``"retired"``). Record outcomes in ``source.ledger``.

``check(source)``
    Test connectivity; return one line for ``crmbridge check``, raise on failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from .adapters.base import AdapterType, DemoSource
    from .insights.rules import AlertRule

# Major: a change that can break a plugin written for the previous version; minor: additions.
# A plugin depends on the crmbridge releases that carry the major it was written for (see
# docs/plugins.md, "Versioning").
PLUGIN_API_VERSION = "1.0"

hookspec = pluggy.HookspecMarker("crmbridge")
hookimpl = pluggy.HookimplMarker("crmbridge")


@hookspec
def crmbridge_adapter_types() -> Iterable[AdapterType]:
    """Declare the adapter types this plugin provides, as ``AdapterType`` objects.

    ``name`` is what hotel IT writes as ``type = "..."`` in a ``[sources.NAME]`` table;
    ``config_model`` is a pydantic model (subclass ``AdapterConfig``) validating that table's
    own keys; ``capabilities`` names the streams it fetches (``reservations``, ``stays``,
    ``folios``, ``profiles``, ``feedback``, ``pos_checks``), ``receive`` if it takes pushes
    and ``push_alerts`` if it writes alerts back. The capabilities are checked against the
    callables when the plugin loads: a declared stream without ``fetch[stream]`` is a load
    error, so is a callable that is not declared. Two plugins declaring the same name is a
    configuration error, reported by ``crmbridge plugins``. Example::

        @hookimpl
        def crmbridge_adapter_types():
            return [AdapterType("acme_pms", AcmeConfig, {"reservations"},
                                "ACME PMS over REST", check=check,
                                fetch={"reservations": fetch_reservations})]
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
