"""Ctrip's scripted stream over real HTTP on loopback, into the store, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from crmbridge_ctrip.simulator import invented_orders, run, scripted_stream
from sqlalchemy import select

from crmbridge.config import ReceiverConfig
from crmbridge.plugins import load_plugins
from crmbridge.receiver import PushRoute, Receiver
from crmbridge.store.guest_store import GuestStore
from crmbridge.store.schema import reservations
from crmbridge.store.writer import BatchWriter
from tests.factories import reservation
from tests.receiver_helpers import guest_of, reservation_row, wait_for

from .messages import CONFIG, CREDS, HOTEL, ctrip_source

START = date(2026, 12, 1)
ORDERS = invented_orders(HOTEL, START)
EXPECTED = {
    ORDERS["wang"].order_id: ("confirmed", date(2026, 12, 4)),  # modified: one night more
    ORDERS["zhang"].order_id: ("cancelled", date(2026, 12, 5)),
    ORDERS["li"].order_id: ("cancelled", date(2026, 12, 11)),  # its cancel came first
    ORDERS["muller"].order_id: ("confirmed", date(2026, 12, 13)),
}


def _receiver(store: GuestStore) -> Receiver:
    hooks = load_plugins()
    route = PushRoute(CONFIG.path, ctrip_source(store), hooks.adapter_type("ctrip"))
    return Receiver(store, hooks, [route], ReceiverConfig(port=0, retry_seconds=0.2))


@pytest.fixture
def receiver(store) -> Iterator[Receiver]:
    with _receiver(store) as r:
        yield r


def _state(store: GuestStore) -> dict[str, tuple[str, date]]:
    with store.engine.connect() as c:
        rows = c.execute(select(reservations).where(reservations.c.source == "ctrip")).all()
    return {r.source_id: (r.status, r.departure) for r in rows}


def _settled(store: GuestStore) -> bool:
    # 7 messages: 4 orders, 1 modification, 2 cancels (reads, the duplicate and the wrong
    # password are not stored).
    return _state(store) == EXPECTED and store.inbox("ctrip").counts() == {"done": 7}


def _wait_settled(store: GuestStore, what: str) -> None:
    try:
        wait_for(lambda: _settled(store), what=what)
    except AssertionError as exc:  # say how far it got
        state, counts = _state(store), store.inbox("ctrip").counts()
        raise AssertionError(f"{exc}: store {state}, inbox {counts}") from None


def _replay(url: str) -> list[str]:
    """The labels of the steps whose reply was not what Ctrip expects."""
    return [
        step.label for step, out in run(url, scripted_stream(CREDS, HOTEL, START)) if not step.expect(out)
    ]


def test_the_scripted_stream_lands_completely_matched_to_known_guests(store, receiver):
    with store.transaction() as w:  # 王芳 stayed before: the PMS export has her mobile
        wang = {"given_name": "Fang", "surname": "Wang", "local_name": "王芳", "emails": [], "documents": [],
                "birth_date": None, "phones": [{"number": "139 0013 9000"}]}  # fmt: skip
        w.upsert_reservations([reservation("PMS-88", guest=wang)])
    assert _replay(receiver.url + CONFIG.path) == []
    _wait_settled(store, "the whole stream in the store")
    assert guest_of(store, "ctrip", ORDERS["wang"].order_id) == guest_of(store, "legacy_pms", "PMS-88")
    assert reservation_row(store, "ctrip", "CT2026112309") is None  # sent with a wrong password


def test_resending_the_whole_stream_changes_nothing(store, receiver):
    url = receiver.url + CONFIG.path
    assert _replay(url) == []
    _wait_settled(store, "the stream in the store")
    with store.engine.connect() as c:
        before = c.execute(select(reservations).order_by(reservations.c.source_id)).all()
    assert _replay(url) == []  # duplicates acknowledged with the 127 warning
    wait_for(lambda: store.inbox("ctrip").counts().get("pending", 0) == 0, what="nothing pending")
    with store.engine.connect() as c:
        after = c.execute(select(reservations).order_by(reservations.c.source_id)).all()
    assert after == before and store.inbox("ctrip").counts() == {"done": 7}


def test_a_processing_failure_is_retried_and_nothing_is_lost(store, monkeypatch):
    real, failures = BatchWriter.upsert_reservations, []

    def flaky(self, batch):
        if len(failures) < 2:
            failures.append(1)
            raise OSError("disk full")
        return real(self, batch)

    monkeypatch.setattr(BatchWriter, "upsert_reservations", flaky)
    with _receiver(store) as r:
        assert _replay(r.url + CONFIG.path) == []
        _wait_settled(store, "the stream in the store after retries")
    assert len(failures) == 2


def test_orders_committed_but_never_processed_land_at_the_next_start(store):
    from crmbridge_ctrip.simulator import Messages

    from crmbridge.adapters.base import PushRequest

    # As if the process was killed between the inbox commit and processing.
    hooks, ctx = load_plugins(), ctrip_source(store)
    hooks.receive(ctx, PushRequest("POST", CONFIG.path, {}, Messages(CREDS).order(ORDERS["wang"])))
    assert reservation_row(store, "ctrip", ORDERS["wang"].order_id) is None
    with _receiver(store):
        wait_for(lambda: reservation_row(store, "ctrip", ORDERS["wang"].order_id), what="the order landing")


def test_no_guest_data_is_in_the_database_file_in_clear(tmp_path, keyring):
    store = GuestStore.open(f"sqlite:///{tmp_path / 'store.db'}", keyring)
    try:
        with _receiver(store) as r:
            assert _replay(r.url + CONFIG.path) == []
            _wait_settled(store, "the stream in the store")
    finally:
        store.close()
    raw = b"".join(p.read_bytes() for p in Path(tmp_path).glob("store.db*"))
    for value in ("王", "李娜", "Müller", "13900139000", "wang.fang.demo", "高楼层"):
        assert value.encode() not in raw, value
