"""The pos_checks stream in the writer: idempotent upsert keyed on (source, source id)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crmbridge.store.schema import pos_checks, pos_items

from .pos_fixtures import check, local


def _upsert(store, *checks):
    with store.transaction() as w:
        return w.upsert_pos_checks(list(checks))


def _lines(store) -> list[str]:
    with store.engine.connect() as c:
        return [r.name for r in c.execute(select(pos_items).order_by(pos_items.c.position))]


def test_same_check_again_is_unchanged_and_its_lines_are_not_duplicated(store):
    _upsert(store, check(4901, closed=local(20, 19)))
    counts = _upsert(store, check(4901, closed=local(20, 19)))
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, 1)
    assert len(_lines(store)) == 3  # two items and the tender


def test_changed_check_has_its_lines_rewritten(store):
    _upsert(store, check(4902, closed=local(20, 19)))
    later = check(4902, closed=local(20, 19, 30), items=[("Americano 美式咖啡", "Coffee", 1, "48.00")])
    counts = _upsert(store, later)
    assert counts.updated == 1
    assert _lines(store) == ["Americano 美式咖啡", "Room Charge 挂房账"]


def test_older_version_of_a_check_never_overwrites_a_newer_one(store):
    newer = check(4903, closed=local(20, 21), items=[("Americano 美式咖啡", "Coffee", 2, "48.00")])
    _upsert(store, newer)
    older = check(4903, closed=local(20, 19))
    older.updated_at = newer.updated_at - timedelta(hours=2)
    counts = _upsert(store, older)
    assert counts.unchanged == 1
    with store.engine.connect() as c:
        assert str(c.execute(select(pos_checks.c.total_amount)).scalar_one()) == "96.00"
        assert c.execute(select(func.count()).select_from(pos_items)).scalar_one() == 2
