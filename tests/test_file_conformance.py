"""The core's file adapter passes the same conformance suite as every plugin."""

from __future__ import annotations

import pytest

from crmbridge.adapters.file import CSV_COLUMNS, FileConfig
from crmbridge.api import SourceContext
from crmbridge.synthetic import generate_rows, write_csv
from crmbridge.testing import AdapterConformance, Harness

BAD_ROW = {c: "" for c in CSV_COLUMNS} | {
    "source_id": "PMS-BAD-1",
    "arrival": "2026-02-30",  # no such day
    "departure": "2026-03-02",
    "local_name": "李娜",
    "phone": "139 0013 9000",
    "email": "li.na.test@example.cn",
    "updated_at": "2026-11-20T12:00:00+08:00",
}


class TestFileAdapterConformance(AdapterConformance):
    @pytest.fixture
    def harness(self, tmp_path) -> Harness:
        path = tmp_path / "export.csv"
        rows = list(generate_rows(12, seed=5))
        write_csv(path, rows)

        def add_bad_record(ctx: SourceContext) -> list[str]:
            write_csv(path, [*rows, BAD_ROW])
            return ["李娜", "li.na.test@example.cn", "13900139000", "139 0013 9000"]

        return Harness(
            "file",
            FileConfig(path=str(path), hotel_code="SHA01", batch_size=5),
            name="legacy_pms",
            add_bad_record=add_bad_record,
        )
