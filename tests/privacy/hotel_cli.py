"""A hotel checkout driven through the CLI (in process), with a CSV export of invented guests."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from crmbridge.cli.app import app

from ..test_cli import project

COLUMNS = [
    "source_id",
    "status",
    "arrival",
    "departure",
    "given_name",
    "surname",
    "local_name",
    "email",
    "phone",
    "birth_date",
    "id_type",
    "id_number",
    "preferences",
    "special_requests",
    "confirmation_number",
    "total_amount",
    "currency",
    "updated_at",
]
GUESTS = {
    "zhang": [
        "PMS-2001",
        "Checked Out",
        "2026-10-01",
        "2026-10-03",
        "Wei",
        "Zhang",
        "张伟",
        "zhang.wei.erase@example.cn",
        "138 0013 8000",
        "1985-03-14",
        "PASSPORT",
        "E41234567",
        "DIET:VEGETARIAN",
        "不吃香菜，高楼层",
        "CNF-77001",
        "1288.00",
        "CNY",
        "2026-10-03T10:00:00+08:00",
    ],
    "li": [
        "PMS-2002",
        "Checked Out",
        "2026-10-05",
        "2026-10-06",
        "Na",
        "Li",
        "李娜",
        "li.na.erase@example.com",
        "139 0013 9000",
        "1990-07-02",
        "ID_CARD",
        "310101199007020025",
        "ROOM:HIGH_FLOOR",
        "延迟退房",
        "CNF-77002",
        "688.00",
        "CNY",
        "2026-10-06T10:00:00+08:00",
    ],
    "martin": [
        "PMS-2003",
        "Reserved",
        "2026-12-20",
        "2026-12-22",
        "Claire",
        "Martin",
        "",
        "claire.martin.erase@example.fr",
        "+33 6 12 34 56 78",
        "1979-01-30",
        "",
        "",
        "",
        "late arrival",
        "CNF-77003",
        "2100.00",
        "CNY",
        "2026-11-01T10:00:00+08:00",
    ],
}


def cli(root: Path, *args: str, check: bool = True, input: str | None = None):
    result = CliRunner().invoke(
        app, [*args, "--config", str(root / "config" / "crmbridge.toml")], input=input
    )
    if check and result.exit_code != 0:
        raise AssertionError(f"crmbridge {' '.join(args)} exited {result.exit_code}:\n{result.output}")
    return result


def hotel_checkout(tmp_path: Path, db_url: str) -> Path:
    root = project(tmp_path, db_url, csv_rows=0)
    with (root / "imports" / "export.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(GUESTS.values())
    cli(root, "sync")
    cli(root, "staff", "add", "dpo-1", "--role", "dpo")
    return root


def keys_url(root: Path) -> str:
    return f"sqlite:///{root / 'var' / 'crmbridge-keys.db'}"
