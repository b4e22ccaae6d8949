"""The pos-file adapter: check exports with the hotel's own column names."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from crmbridge_pos.adapter import PosFileConfig
from pydantic import ValidationError
from sqlalchemy import select

from crmbridge.adapters.base import SourceContext
from crmbridge.engine.sync import SyncEngine
from crmbridge.plugins import load_plugins
from crmbridge.store.schema import pos_checks, pos_items, quarantine

# A Chinese POS's line-level export (one row per line, the check's header repeated).
COLUMNS = {
    "check_id": "账单号", "check_number": "单号", "outlet": "营业点", "closed_at": "结账时间",
    "room_number": "房号", "check_total": "账单金额", "line_type": "类型", "item_name": "品名",
    "item_group": "类别", "quantity": "数量", "amount": "金额", "return": "退菜",
}  # fmt: skip
HEADER = "账单号,单号,营业点,结账时间,房号,账单金额,类型,品名,类别,数量,金额,退菜"
ROWS = [
    "B20261120-0081,81,大堂吧 Lobby Bar,2026-11-21 00:40:00,1808,106.00,item,铁观音,茶,1,68.00,",
    "B20261120-0081,81,大堂吧 Lobby Bar,2026-11-21 00:40:00,1808,106.00,item,青岛啤酒,啤酒,2,76.00,",
    "B20261120-0081,81,大堂吧 Lobby Bar,2026-11-21 00:40:00,1808,106.00,item,青岛啤酒,啤酒,1,38.00,是",
    "B20261120-0081,81,大堂吧 Lobby Bar,2026-11-21 00:40:00,1808,106.00,tender,挂房账,,1,106.00,",
    "B20261120-0082,82,翡翠轩 Jade Garden,2026-11-20 19:10:00,,88.00,item,素麻婆豆腐,热菜,1,88.00,",
    "B20261120-0082,82,翡翠轩 Jade Garden,2026-11-20 19:10:00,,88.00,tender,微信支付,,1,88.00,",
]


@functools.cache
def _hooks():
    return load_plugins()  # scanning entry points is slow; the plugins hold no state


def _source(path: Path, **over) -> SourceContext:
    cfg = PosFileConfig(path=str(path), hotel_code="SHA01", columns=COLUMNS, **over)
    return SourceContext("outlet_exports", "pos-file", cfg, base_dir=path.parent)


def _sync(store, ctx, full=False):
    hooks = _hooks()
    [r] = SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("pos-file"), full=full)
    return r


def test_csv_export_with_a_column_mapping_imports_checks_and_lines(store, tmp_path):
    f = tmp_path / "pos_20261120.csv"
    f.write_text("\ufeff" + "\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    r = _sync(store, _source(f))
    assert (r.status, r.counts.inserted, r.counts.quarantined) == ("ok", 2, 0)
    with store.engine.connect() as c:
        bar = c.execute(select(pos_checks).where(pos_checks.c.check_number == "81")).one()
        lines = c.execute(
            select(pos_items).where(pos_items.c.check_id == bar.id).order_by(pos_items.c.position)
        ).all()
    # closed 00:40 local on the 21st: before the 04:00 rollover, so business date the 20th
    assert (str(bar.business_date), bar.room_number, str(bar.room_charge_amount)) == (
        "2026-11-20",
        "1808",
        "106.00",
    )
    assert bar.closed_at.replace(tzinfo=None).isoformat() == "2026-11-20T16:40:00"  # stored in UTC
    assert [(x.kind, x.name, str(x.quantity), x.returned) for x in lines] == [
        ("item", "铁观音", "1.000", 0),
        ("item", "青岛啤酒", "2.000", 0),
        ("item", "青岛啤酒", "-1.000", 1),
        ("tender", "挂房账", "1.000", 0),
    ]


def test_json_export_uses_the_same_mapping(store, tmp_path):
    keys = HEADER.split(",")
    rows = [dict(zip(keys, r.split(","), strict=True)) for r in ROWS[4:]]
    f = tmp_path / "pos.json"
    f.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    r = _sync(store, _source(f))
    assert r.counts.inserted == 1
    with store.engine.connect() as c:
        assert c.execute(select(pos_checks.c.outlet, pos_checks.c.room_charge_amount)).one() == (
            "翡翠轩 Jade Garden",
            None,
        )


def test_row_with_a_bad_amount_quarantines_its_check_only(store, tmp_path):
    bad = ROWS[4].replace(",1,88.00,", ",1,八十八,")
    f = tmp_path / "pos.csv"
    f.write_text("\n".join([HEADER, *ROWS[:4], bad, ROWS[5]]) + "\n", encoding="utf-8")
    r = _sync(store, _source(f))
    assert (r.counts.inserted, r.counts.quarantined) == (1, 1)
    with store.engine.connect() as c:
        q = c.execute(select(quarantine)).one()
    assert q.source_id == "B20261120-0082" and "amount is not a number" in q.reason


def test_unchanged_file_is_not_read_again_and_full_resync_changes_nothing(store, tmp_path):
    f = tmp_path / "pos.csv"
    f.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    ctx = _source(f)
    _sync(store, ctx)
    assert _sync(store, ctx).counts.fetched == 0
    again = _sync(store, ctx, full=True)
    assert (again.counts.fetched, again.counts.unchanged, again.counts.updated) == (2, 2, 0)


def test_mapping_to_an_unknown_field_is_a_config_error():
    with pytest.raises(ValidationError, match="unknown field"):
        PosFileConfig(path="x.csv", hotel_code="SHA01", columns={"room": "房号"})
