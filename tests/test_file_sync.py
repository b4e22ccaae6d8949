"""The built-in file adapter through the sync engine: CSV/JSONL exports into the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crmbridge.adapters.base import SourceContext
from crmbridge.adapters.file import CSV_COLUMNS, FileConfig
from crmbridge.engine.sync import SyncEngine
from crmbridge.plugins import load_plugins
from crmbridge.store.schema import guests, quarantine, reservations, sync_runs
from crmbridge.synthetic import generate_rows, write_csv

HEADER = ",".join(CSV_COLUMNS)
ROW_ZHANG = (
    "PMS-1,SHA01,Reserved,2026-12-01,2026-12-03,DLK,BAR,2,0,1288.00,CNY,DIRECT,Wei,Zhang,"
    "张伟,zhang.wei.test@example.cn,138 0013 8000,1985-03-14,ID_CARD,110101198503140018,"
    "ROOM:HIGH_FLOOR;DIET:VEGETARIAN,晚到，请保留房间,2026-11-20T10:00:00+08:00"
)
ROW_SMITH = (
    "PMS-2,,Checked Out,2026-11-02,2026-11-05,DLT,CORP,1,0,2100.50,CNY,CORPORATE,Emma,Schmidt,,"
    "emma.schmidt.test@example.com,+49 30 901820,,PASSPORT,,BED:KING,,2026-11-20T11:00:00+08:00"
)
ROW_BAD_DATE = (
    "PMS-3,SHA01,Reserved,2026-02-30,2026-03-02,DLK,BAR,1,0,500,CNY,DIRECT,Na,Li,李娜,,"
    "13900139000,,,,,,2026-11-20T12:00:00+08:00"
)


def _ctx(path: Path, **over) -> SourceContext:
    return SourceContext(
        "legacy_pms", "file", FileConfig(path=str(path), hotel_code="SHA01", **over), base_dir=path.parent
    )


def _engine(store) -> tuple[SyncEngine, object]:
    hooks = load_plugins()
    return SyncEngine(store, hooks), hooks.adapter_type("file")


def _count(store, table, *where):
    with store.engine.connect() as c:
        return c.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_csv_with_bom_imports_every_row(store, tmp_path):
    f = tmp_path / "export.csv"
    f.write_text("\ufeff" + "\n".join([HEADER, ROW_ZHANG, ROW_SMITH]) + "\n", encoding="utf-8")
    engine, file_type = _engine(store)
    [r] = engine.sync_source(_ctx(f), file_type)
    assert (r.status, r.counts.fetched, r.counts.inserted) == ("ok", 2, 2)
    with store.engine.connect() as c:
        rows = {x.source_id: x for x in c.execute(select(reservations))}
    assert rows["PMS-2"].hotel_code == "SHA01"  # default from the source config
    assert rows["PMS-2"].status == "checked_out"
    assert str(rows["PMS-2"].total_amount) == "2100.50"


def test_malformed_date_is_quarantined_and_the_rest_lands(store, tmp_path):
    f = tmp_path / "export.csv"
    f.write_text("\n".join([HEADER, ROW_ZHANG, ROW_BAD_DATE, ROW_SMITH]) + "\n", encoding="utf-8")
    engine, file_type = _engine(store)
    [r] = engine.sync_source(_ctx(f), file_type)
    assert (r.counts.inserted, r.counts.quarantined) == (2, 1)
    with store.engine.connect() as c:
        q = c.execute(select(quarantine)).one()
    assert q.source_id == "PMS-3" and "arrival" in q.reason
    assert "李娜" not in q.reason and b"13900139000" not in bytes(q.raw_ct)
    raw = store.keyring.decrypt(bytes(q.raw_ct), table="quarantine", column="raw_ct", row_id=q.id)
    assert json.loads(raw)["local_name"] == "李娜"  # kept, encrypted, for the operator to fix


def test_second_plain_sync_fetches_nothing_new(store, tmp_path):
    f = tmp_path / "export.csv"
    f.write_text("\n".join([HEADER, ROW_ZHANG, ROW_SMITH]) + "\n", encoding="utf-8")
    engine, file_type = _engine(store)
    engine.sync_source(_ctx(f), file_type)
    [r] = engine.sync_source(_ctx(f), file_type)
    assert r.counts.fetched == 0


def test_full_resync_reports_every_record_unchanged(store, tmp_path):
    f = tmp_path / "export.csv"
    f.write_text("\n".join([HEADER, ROW_ZHANG, ROW_BAD_DATE, ROW_SMITH]) + "\n", encoding="utf-8")
    engine, file_type = _engine(store)
    engine.sync_source(_ctx(f), file_type)
    [r] = engine.sync_source(_ctx(f), file_type, full=True)
    assert (r.counts.fetched, r.counts.unchanged, r.counts.inserted, r.counts.updated) == (3, 2, 0, 0)
    assert _count(store, quarantine) == 1  # the same bad row is not filed twice


def test_rows_updated_after_the_watermark_are_picked_up(store, tmp_path):
    f = tmp_path / "export.csv"
    f.write_text("\n".join([HEADER, ROW_ZHANG]) + "\n", encoding="utf-8")
    engine, file_type = _engine(store)
    engine.sync_source(_ctx(f), file_type)
    changed = ROW_ZHANG.replace(",DLK,", ",STE,").replace("2026-11-20T10:00", "2026-11-22T10:00")
    f.write_text("\n".join([HEADER, changed, ROW_SMITH]) + "\n", encoding="utf-8")
    [r] = engine.sync_source(_ctx(f), file_type)
    assert (r.counts.fetched, r.counts.updated, r.counts.inserted) == (2, 1, 1)


def test_jsonl_export_with_a_broken_line(store, tmp_path):
    f = tmp_path / "export.jsonl"
    rows = list(generate_rows(3, seed=1))
    lines = [json.dumps(rows[0], ensure_ascii=False), "{not json", json.dumps(rows[1]), "[1, 2]"]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    engine, file_type = _engine(store)
    [r] = engine.sync_source(_ctx(f), file_type)
    assert (r.counts.inserted, r.counts.quarantined) == (2, 2)
    with store.engine.connect() as c:
        reasons = {q.reason for q in c.execute(select(quarantine))}
    assert reasons == {"not a JSON object"}


def test_cursor_commits_with_each_batch_so_an_interrupted_run_resumes(store, tmp_path):
    f = tmp_path / "export.csv"
    write_csv(f, generate_rows(250, seed=3))
    hooks = load_plugins()
    stop_after = {"n": 0}

    def stop() -> bool:
        stop_after["n"] += 1
        return stop_after["n"] >= 2  # stop after the second batch

    file_type = hooks.adapter_type("file")
    [r] = SyncEngine(store, hooks, should_stop=stop).sync_source(_ctx(f, batch_size=50), file_type)
    assert r.status == "interrupted" and r.counts.fetched == 100
    assert _count(store, reservations) == 100
    [r2] = SyncEngine(store, hooks).sync_source(_ctx(f, batch_size=50), file_type)
    assert r2.counts.fetched == 150 and r2.counts.inserted == 150
    assert _count(store, reservations) == 250


def test_run_summary_is_recorded(store, tmp_path):
    f = tmp_path / "export.csv"
    f.write_text("\n".join([HEADER, ROW_ZHANG, ROW_BAD_DATE]) + "\n", encoding="utf-8")
    engine, file_type = _engine(store)
    engine.sync_source(_ctx(f), file_type)
    with store.engine.connect() as c:
        run = c.execute(select(sync_runs)).one()
    assert (run.status, run.fetched, run.inserted, run.quarantined) == ("ok", 2, 1, 1)
    assert run.finished_at is not None


def test_repeat_guests_in_one_export_become_one_guest(store, tmp_path):
    f = tmp_path / "export.csv"
    again = ROW_ZHANG.replace("PMS-1,", "PMS-9,").replace("138 0013 8000", "+86 13800138000")
    f.write_text("\n".join([HEADER, ROW_ZHANG, again]) + "\n", encoding="utf-8")
    engine, file_type = _engine(store)
    engine.sync_source(_ctx(f), file_type)
    assert _count(store, guests, guests.c.merged_into.is_(None)) == 1 and _count(store, reservations) == 2


def test_file_adapter_type_carries_its_reservations_fetch_and_the_core_routes_to_it(tmp_path):
    from crmbridge.adapters import file as file_adapter

    f = tmp_path / "export.csv"
    f.write_text("\n".join([HEADER, ROW_ZHANG]) + "\n", encoding="utf-8")
    assert file_adapter.FILE.streams == ("reservations",) and file_adapter.FILE.problems() == []
    with pytest.raises(LookupError, match="does not fetch stays"):
        load_plugins().fetch("stays", _ctx(f), None, False)
    batches = list(load_plugins().fetch("reservations", _ctx(f), None, False))
    assert [len(b.records) for b in batches] == [1, 0]  # the data, then the closing cursor
    assert batches[0].records[0].guest.local_name == "张伟"


def test_a_batch_whose_cursor_cannot_be_written_is_not_stored_and_the_rerun_resumes_after_the_last_good_one(
    store, tmp_path, monkeypatch
):
    """The cursor commits with its batch: the write fails on purpose between the third
    batch's rows and its cursor, so exactly two batches are stored and resumed from, not a
    SIGKILL timed by luck."""
    from crmbridge.store.writer import BatchWriter

    f = tmp_path / "export.csv"
    write_csv(f, generate_rows(50, seed=8))
    engine, file_type = _engine(store)
    real, calls = BatchWriter.save_cursor, []

    def fail_third(self, source, stream, cursor):
        calls.append(cursor)
        if len(calls) == 3:
            raise OSError("disk full while writing the cursor")
        real(self, source, stream, cursor)

    monkeypatch.setattr(BatchWriter, "save_cursor", fail_third)
    [failed] = engine.sync_source(_ctx(f, batch_size=10), file_type)
    assert failed.status == "failed" and "disk full" in failed.error
    assert _count(store, reservations) == 20  # batches 1 and 2; batch 3's rows rolled back with its cursor
    assert engine.cursor("legacy_pms", "reservations") == calls[1]
    monkeypatch.setattr(BatchWriter, "save_cursor", real)
    [again] = engine.sync_source(_ctx(f, batch_size=10), file_type)
    assert (again.status, again.counts.fetched, again.counts.inserted) == ("ok", 30, 30)
    with store.engine.connect() as c:
        total = c.execute(select(func.count()).select_from(reservations)).scalar_one()
        distinct = c.execute(select(func.count(reservations.c.source_id.distinct()))).scalar_one()
    assert total == distinct == 50
