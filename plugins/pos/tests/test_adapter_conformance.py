"""The Simphony adapter against crmbridge's adapter conformance suite, on the loopback BI simulator."""

from __future__ import annotations

import pytest
from crmbridge_pos.simulator import SimphonySimulator

from crmbridge.api import SourceContext
from crmbridge.testing import AdapterConformance, Harness

from .conftest import BUS, LOC, simphony_source
from .test_simphony_sync import _at, _dinner

NAMES = ["王芳", "ZHANG WEI", "李娜", "Emma Schmidt", "陈静", "欧阳子涵"]


class TestSimphonyConformance(AdapterConformance):
    @pytest.fixture
    def harness(self, sim: SimphonySimulator) -> Harness:
        # Two business dates (days_back = 2) of dinners, a name on each check: two batches.
        for i, name in enumerate(NAMES):
            day = BUS.replace(day=BUS.day - (i % 2))
            check = _dinner(1700001 + i, 5801 + i, bus_dt=day, chk_name=name, room=f"18{i:02d}")
            sim.put_check(LOC, check, updated=_at(12, i))

        def add_bad_record(ctx: SourceContext) -> list[str]:
            bad = _dinner(1700099, 5899, chk_name="司马相如")
            bad["detailLines"][0]["dspTtl"] = "sixty-eight"
            sim.put_check(LOC, bad, updated=_at(13))
            return ["司马相如"]

        def inject_faults(ctx: SourceContext) -> None:
            sim.faults[:] = [503, 502]  # retried
            sim.revoke_tokens()  # signs in again

        return Harness(
            "simphony",
            simphony_source(sim).settings,
            name="restaurant_pos",
            add_bad_record=add_bad_record,
            inject_faults=inject_faults,
            secrets=[sim.password],
        )
