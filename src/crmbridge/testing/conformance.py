"""The adapter conformance suite: what every crmbridge adapter must do, as pytest tests.

A plugin runs it with a few lines in its own tests::

    from crmbridge.testing import AdapterConformance, Harness

    class TestAcmeConformance(AdapterConformance):
        @pytest.fixture
        def harness(self, simulator):  # your loopback simulator, running
            return Harness("acme_pms", AcmeConfig(base_url=simulator.url, ...),
                           inject_faults=lambda ctx: simulator.fail_next(), secrets=[simulator.password])

Each test gets a fresh ``store`` (both backends, from crmbridge's pytest plugin) and runs the
adapter through the real sync engine and, for push adapters, through ``receive``. Tests that
need something the harness does not give (``add_bad_record``, ``alerts`` ...) skip and say
which field to fill in. What the suite checks:

* batch/cursor: a write that fails between a batch and its cursor (on purpose, every time)
  loses the batch whole, keeps the batches before it, and the next run completes without
  duplicates;
* idempotence: a second run writes nothing; ``full=True`` re-reads and changes nothing;
* rejects: a record that cannot be mapped is quarantined with a reason naming no PII, and
  the rest lands;
* logs: at INFO, with the harness's faults injected, no guest data or secret is logged;
* push_alerts: pushing twice changes nothing the second time, and the PMS shows one copy;
* receive: a wrong credential stores nothing; an accepted message is committed before the
  reply names it; a resend is stored once; a store that cannot commit is never "accepted".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from ..adapters.base import PUSH_ALERTS, RECEIVE, AdapterType, Batch, PushRequest, SourceContext
from ..engine.sync import SyncEngine
from ..models import Alert, GuestProfile, PosCheck
from ..plugins import Hooks, load_plugins
from ..store.guest_store import GuestStore
from ..store.inbox import Inbox
from ..store.schema import (
    feedback,
    folio_lines,
    inbox,
    pos_checks,
    profile_records,
    quarantine,
    reservations,
    stays,
)
from ..store.writer import BatchWriter

TABLES = {
    "reservations": reservations,
    "profiles": profile_records,
    "stays": stays,
    "folios": folio_lines,
    "feedback": feedback,
    "pos_checks": pos_checks,
}


@dataclass
class Harness:
    """What the suite needs to know about one adapter and its simulator.

    ``settings`` is the adapter's validated config model, pointing at a running simulator
    whose data comes in at least two batches (lower the page or batch size if need be).
    Every callable is optional; the tests that need a missing one skip and say so.
    """

    type: str
    settings: Any
    name: str = "conformance"
    # The stream the resume test cuts; default: the adapter's first stream.
    resume_stream: str | None = None
    # False for sources that cannot be read again (an inbox of pushes): full=True then only
    # has to change nothing.
    rereadable: bool = True
    # Makes the source hold one record that cannot be mapped (in the simulator, or in the
    # inbox of ``ctx`` for a push source); returns the PII it carries.
    add_bad_record: Callable[[SourceContext], list[str]] | None = None
    # Makes the simulator fail the next calls the way the real system does (5xx, 429,
    # expired tokens); the adapter must retry or fail without logging guest data.
    inject_faults: Callable[[SourceContext], None] | None = None
    # Values that must never be logged (passwords, keys, tokens) besides the guest data.
    secrets: list[str] = field(default_factory=list)
    # Push adapters: requests the sender would make (accepted ones), and one with a wrong
    # credential; `bad_request` returns a request whose content cannot be mapped and the PII
    # it carries (refused at receive time instead of quarantined).
    push_requests: Callable[[], list[PushRequest]] | None = None
    bad_credential: Callable[[], PushRequest] | None = None
    bad_request: Callable[[], tuple[PushRequest, list[str]]] | None = None
    # PMS adapters: alerts for records the simulator holds, and how many copies of each
    # alert the PMS shows when read back.
    alerts: Callable[[SourceContext], list[Alert]] | None = None
    read_back: Callable[[list[Alert]], list[int]] | None = None


class InjectedWriteFailure(RuntimeError):
    """The suite's own fault: the transaction of a batch fails before its cursor is saved."""


class _Recorder:
    """A Hooks stand-in for the engine that remembers every batch it handed over."""

    def __init__(self, hooks: Hooks) -> None:
        self.hooks = hooks
        self.current: Batch[Any] | None = None
        self.done: list[Batch[Any]] = []  # batches the engine finished with (committed)
        self.records: list[Any] = []

    def fetch(
        self, stream: Any, source: SourceContext, cursor: str | None, full: bool
    ) -> Iterator[Batch[Any]]:
        for batch in self.hooks.fetch(stream, source, cursor, full):
            self.current = batch
            self.records += batch.records
            yield batch
            self.done.append(batch)
            self.current = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.hooks, name)


def _pii_of(records: list[Any]) -> set[str]:
    """Names, e-mail addresses, phone numbers and document numbers the records carry."""
    out: set[str] = set()
    for r in records:
        guests = [r] if isinstance(r, GuestProfile) else [getattr(r, "guest", None)]
        for g in guests:
            if g is None:
                continue
            out |= {v for v in (g.given_name, g.surname, g.local_name) if v}
            out |= {e.address for e in g.emails} | {p.number for p in g.phones}
            out |= {p.number.lstrip("+")[-8:] for p in g.phones}  # the local part, however written
            out |= {d.number for d in g.documents}
        if isinstance(r, PosCheck) and r.guest_name:
            out.add(r.guest_name)
    # Two-letter pinyin such as "Li" occurs in ordinary words; it proves nothing.
    return {v for v in out if len(v) > 2}


def _leaks(text: str, values: set[str] | list[str]) -> list[str]:
    low = text.casefold()
    return sorted(v for v in values if v and v.casefold() in low)


def _stored_ids(store: GuestStore, stream: str, source: str) -> set[str]:
    t = TABLES[stream]
    with store.engine.connect() as c:
        return set(c.execute(select(t.c.source_id).where(t.c.source == source)).scalars())


class AdapterConformance:
    """Subclass as ``Test<Adapter>Conformance`` and give a ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> Harness:
        raise NotImplementedError("define a `harness` fixture returning crmbridge.testing.Harness")

    @pytest.fixture
    def plugin_hooks(self) -> Hooks:
        return load_plugins()

    # -- helpers ---------------------------------------------------------------------------
    def adapter(self, hooks: Hooks, harness: Harness) -> AdapterType:
        return hooks.adapter_type(harness.type)

    def source(self, store: GuestStore, harness: Harness) -> SourceContext:
        return SourceContext(
            harness.name,
            harness.type,
            harness.settings,
            log=logging.getLogger(f"crmbridge.source.{harness.name}"),
            inbox=store.inbox(harness.name),
            ledger=store.ledger(harness.name),
        )

    def prime(self, hooks: Hooks, ctx: SourceContext, harness: Harness) -> None:
        """Push sources: send the harness's messages first, as the sender would."""
        if RECEIVE in self.adapter(hooks, harness).capabilities and harness.push_requests:
            for req in harness.push_requests():
                reply = hooks.receive(ctx, req)
                assert reply.accepted, f"the harness's push request was not accepted ({reply.status})"

    def _need(self, harness: Harness, *names: str) -> None:
        missing = [n for n in names if getattr(harness, n) is None]
        if missing:
            pytest.skip(f"the harness gives no {', '.join(missing)}")

    def _need_capability(self, hooks: Hooks, harness: Harness, cap: str) -> None:
        if cap not in self.adapter(hooks, harness).capabilities:
            pytest.skip(f"{harness.type} does not declare {cap!r}")

    # -- the adapter type ------------------------------------------------------------------
    def test_the_adapter_type_loads_from_its_entry_point_and_its_capabilities_hold(
        self, plugin_hooks: Hooks, harness: Harness
    ) -> None:
        at = self.adapter(plugin_hooks, harness)
        assert at.problems() == []
        assert isinstance(harness.settings, at.config_model)
        assert at.streams or RECEIVE in at.capabilities or PUSH_ALERTS in at.capabilities

    # -- batches and cursors ---------------------------------------------------------------
    def test_a_second_run_writes_nothing(
        self, store: GuestStore, plugin_hooks: Hooks, harness: Harness
    ) -> None:
        ctx = self.source(store, harness)
        self.prime(plugin_hooks, ctx, harness)
        engine = SyncEngine(store, plugin_hooks)
        first = engine.sync_source(ctx, self.adapter(plugin_hooks, harness))
        assert [(r.stream, r.status, r.error) for r in first] == [(r.stream, "ok", None) for r in first]
        assert sum(r.counts.inserted for r in first) > 0, "the simulator gave the first run nothing to write"
        second = engine.sync_source(ctx, self.adapter(plugin_hooks, harness))
        assert [(r.stream, r.status, r.counts.inserted, r.counts.updated) for r in second] == [
            (r.stream, "ok", 0, 0) for r in second
        ]

    def test_full_rereads_everything_and_changes_nothing(
        self, store: GuestStore, plugin_hooks: Hooks, harness: Harness
    ) -> None:
        ctx = self.source(store, harness)
        self.prime(plugin_hooks, ctx, harness)
        engine = SyncEngine(store, plugin_hooks)
        at = self.adapter(plugin_hooks, harness)
        first = {r.stream: r for r in engine.sync_source(ctx, at)}
        again = {r.stream: r for r in engine.sync_source(ctx, at, full=True)}
        for stream, r in again.items():
            assert (r.status, r.counts.inserted, r.counts.updated) == ("ok", 0, 0), stream
            if harness.rereadable:
                assert r.counts.fetched >= first[stream].counts.inserted, f"{stream}: full=True read less"

    def test_a_write_failing_between_a_batch_and_its_cursor_loses_nothing_and_duplicates_nothing(
        self, store: GuestStore, plugin_hooks: Hooks, harness: Harness, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        at = self.adapter(plugin_hooks, harness)
        stream = harness.resume_stream or (at.streams[0] if at.streams else None)
        if stream is None:
            pytest.skip(f"{harness.type} fetches no stream")
        ctx = self.source(store, harness)
        self.prime(plugin_hooks, ctx, harness)
        rec = _Recorder(plugin_hooks)
        failing = {"on": True, "batch": None}
        original = BatchWriter.save_cursor

        def save_cursor(self: BatchWriter, source: str, stream_: str, cursor: str | None) -> None:
            # The batch's records are written by now, in the same transaction: failing here
            # must roll them back with the cursor, once at least one batch has committed.
            batch = rec.current
            if failing["on"] and batch is not None and batch.records and any(b.records for b in rec.done):
                failing["on"], failing["batch"] = False, batch
                raise InjectedWriteFailure("the suite failed this write on purpose")
            original(self, source, stream_, cursor)

        monkeypatch.setattr(BatchWriter, "save_cursor", save_cursor)
        engine = SyncEngine(store, rec)  # type: ignore[arg-type]
        cut = engine.sync_stream(ctx, stream)
        lost: Batch[Any] | None = failing["batch"]  # type: ignore[assignment]
        if lost is None:
            pytest.fail(
                f"{stream}: the data came in fewer than two batches with records; lower the page size"
            )
        assert cut.status == "failed" and "InjectedWriteFailure" in (cut.error or "")
        kept = {r.source_id for b in rec.done for r in b.records}
        only_lost = {r.source_id for r in lost.records} - kept
        assert only_lost, "the failed batch held only records already written"
        assert _stored_ids(store, stream, ctx.name) == kept  # the failed batch is gone whole
        last = [b.cursor for b in rec.done if b.cursor is not None]
        if last:
            assert engine.cursor(ctx.name, stream) == last[-1]
        if lost.ack:  # an inbox source: the messages of the lost batch wait for the next run
            assert set(lost.ack) <= {m.id for m in store.inbox(ctx.name).pending()}
        resumed = SyncEngine(store, plugin_hooks).sync_stream(ctx, stream)
        assert resumed.status == "ok", resumed.error
        assert _stored_ids(store, stream, ctx.name) >= kept | only_lost
        settled = SyncEngine(store, plugin_hooks).sync_stream(ctx, stream)
        assert (settled.status, settled.counts.inserted, settled.counts.updated) == ("ok", 0, 0)

    # -- rejects ---------------------------------------------------------------------------
    def test_a_record_that_cannot_be_mapped_is_quarantined_with_a_reason_and_no_pii(
        self, store: GuestStore, plugin_hooks: Hooks, harness: Harness
    ) -> None:
        self._need(harness, "add_bad_record")
        assert harness.add_bad_record is not None
        ctx = self.source(store, harness)
        self.prime(plugin_hooks, ctx, harness)
        pii = harness.add_bad_record(ctx)
        results = SyncEngine(store, plugin_hooks).sync_source(ctx, self.adapter(plugin_hooks, harness))
        assert all(r.status == "ok" for r in results), [r.error for r in results]
        assert sum(r.counts.inserted for r in results) > 0, "one bad record stopped the others"
        with store.engine.connect() as c:
            rows = c.execute(select(quarantine).where(quarantine.c.source == ctx.name)).all()
        assert rows, "nothing was quarantined"
        for row in rows:
            assert row.reason.strip()
            assert _leaks(row.reason, pii) == []
            assert _leaks(bytes(row.raw_ct).decode("latin-1"), pii) == []  # kept encrypted

    def test_a_request_that_cannot_be_mapped_is_refused_with_no_pii_in_the_reply(
        self, store: GuestStore, plugin_hooks: Hooks, harness: Harness
    ) -> None:
        self._need_capability(plugin_hooks, harness, RECEIVE)
        self._need(harness, "bad_request")
        assert harness.bad_request is not None
        ctx = self.source(store, harness)
        req, pii = harness.bad_request()
        reply = plugin_hooks.receive(ctx, req)
        assert reply.accepted == [] and store.inbox(ctx.name).counts() == {}
        assert _leaks(reply.body.decode("utf-8", "replace"), pii) == []

    # -- logs ------------------------------------------------------------------------------
    def test_info_logs_carry_no_guest_data_and_no_secret_with_faults_injected(
        self, store: GuestStore, plugin_hooks: Hooks, harness: Harness, caplog: pytest.LogCaptureFixture
    ) -> None:
        self._need(harness, "inject_faults")
        assert harness.inject_faults is not None
        ctx = self.source(store, harness)
        rec = _Recorder(plugin_hooks)
        with caplog.at_level(logging.INFO):
            self.prime(plugin_hooks, ctx, harness)
            harness.inject_faults(ctx)
            engine = SyncEngine(store, rec)  # type: ignore[arg-type]
            at = self.adapter(plugin_hooks, harness)
            engine.sync_source(ctx, at)
            engine.sync_source(ctx, at)  # recovers from what the faults left undone
        pii = _pii_of(rec.records)
        assert pii or harness.secrets, "nothing to look for: the records carry no guest data; give secrets"
        assert caplog.records, "the run logged nothing at all, so the faults were not exercised"
        text = caplog.text
        assert _leaks(text, pii) == []
        assert _leaks(text, harness.secrets) == []

    # -- push_alerts -----------------------------------------------------------------------
    def test_pushing_alerts_twice_changes_nothing_the_second_time_and_the_pms_shows_one_copy(
        self, store: GuestStore, plugin_hooks: Hooks, harness: Harness
    ) -> None:
        self._need_capability(plugin_hooks, harness, PUSH_ALERTS)
        self._need(harness, "alerts", "read_back")
        assert harness.alerts is not None and harness.read_back is not None
        ctx = self.source(store, harness)
        alerts = harness.alerts(ctx)
        assert alerts, "the harness gave no alerts to push"
        first = plugin_hooks.push_alerts(ctx, alerts)
        assert [r.status for r in first] == ["created"] * len(alerts)
        second = plugin_hooks.push_alerts(ctx, alerts)
        assert [r.status for r in second] == ["unchanged"] * len(alerts)
        assert harness.read_back(alerts) == [1] * len(alerts)

    # -- receive ---------------------------------------------------------------------------
    def test_a_wrong_credential_is_refused_before_anything_is_stored(
        self, store: GuestStore, plugin_hooks: Hooks, harness: Harness
    ) -> None:
        self._need_capability(plugin_hooks, harness, RECEIVE)
        self._need(harness, "bad_credential")
        assert harness.bad_credential is not None
        ctx = self.source(store, harness)
        reply = plugin_hooks.receive(ctx, harness.bad_credential())
        assert reply.accepted == []
        assert store.inbox(ctx.name).counts() == {}

    def test_an_accepted_message_is_committed_before_the_reply_and_a_resend_is_stored_once(
        self, store: GuestStore, plugin_hooks: Hooks, harness: Harness
    ) -> None:
        self._need_capability(plugin_hooks, harness, RECEIVE)
        self._need(harness, "push_requests")
        assert harness.push_requests is not None
        ctx = self.source(store, harness)
        requests = harness.push_requests()
        for req in requests:
            reply = plugin_hooks.receive(ctx, req)
            assert reply.accepted, reply.body[:200]
            # Visible from another connection at the moment of the reply: committed.
            with store.engine.connect() as c:
                found = set(c.execute(select(inbox.c.id).where(inbox.c.id.in_(reply.accepted))).scalars())
            assert found == set(reply.accepted)
        stored = sum(store.inbox(ctx.name).counts().values())
        for req in requests:
            plugin_hooks.receive(ctx, req)
        assert sum(store.inbox(ctx.name).counts().values()) == stored

    def test_a_store_that_cannot_commit_is_never_accepted(
        self, store: GuestStore, plugin_hooks: Hooks, harness: Harness, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self._need_capability(plugin_hooks, harness, RECEIVE)
        self._need(harness, "push_requests")
        assert harness.push_requests is not None
        ctx = self.source(store, harness)

        def put(self: Inbox, messages: Any) -> list[int]:
            raise ConnectionError("the suite made the store unreachable on purpose")

        monkeypatch.setattr(Inbox, "put", put)
        monkeypatch.setattr(Inbox, "put_new", put)
        req = harness.push_requests()[0]
        try:
            reply = plugin_hooks.receive(ctx, req)
        except ConnectionError:
            return  # the receiver answers 500: the sender retries
        assert reply.accepted == [], "a reply that names inbox ids the store never committed"


__all__ = ["AdapterConformance", "Harness", "InjectedWriteFailure"]
