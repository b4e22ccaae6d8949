"""The OPERA adapter against crmbridge's adapter conformance suite, on the loopback OHIP simulator."""

from __future__ import annotations

import pytest
from crmbridge_opera.simulator import OhipSimulator

from crmbridge.api import Alert, SourceContext
from crmbridge.testing import AdapterConformance, Harness

from .conftest import APP_KEY, CLIENT_SECRET, sim_config


class TestOperaConformance(AdapterConformance):
    @pytest.fixture
    def harness(self, sim: OhipSimulator) -> Harness:
        arrivals = [r for r, i in sim.state.reservations.items() if i["reservationStatus"] == "Reserved"][:2]

        def add_bad_record(ctx: SourceContext) -> list[str]:
            # A guest whose phone cannot be a number: their reservations cannot be mapped.
            rid = arrivals[0]
            pid = sim.state.reservations[rid]["reservationGuest"]["id"]
            det = sim.state.profiles[pid]["profileDetails"]
            det["telephones"]["telephoneInfo"][0]["telephone"]["phoneNumber"] = "call me after 8"
            name = det["customer"]["personName"][0]
            return [name["givenName"] + " " + name["surname"], *(e["email"]["emailAddress"]
                    for e in det["emails"]["emailInfo"])]  # fmt: skip

        def inject_faults(ctx: SourceContext) -> None:
            sim.fault(429, retry_after=0, operation="getProfile")
            sim.fault(503, operation="getReservations")
            sim.expire_tokens()

        def alerts(ctx: SourceContext) -> list[Alert]:
            text = "上次反映房间太热，请提前将空调调至22度"
            return [
                Alert(target="reservation", pms_source=ctx.name, pms_id=rid, code="CRM",
                      rule="room_temperature", text=f"{text} ({rid})")
                for rid in arrivals
            ]  # fmt: skip

        def read_back(sent: list[Alert]) -> list[int]:
            return [sum(1 for a in sim.alerts_of(x.pms_id) if a["description"] == x.text) for x in sent]

        return Harness(
            "opera",
            sim_config(sim),
            name="opera",
            resume_stream="reservations",
            add_bad_record=add_bad_record,
            inject_faults=inject_faults,
            secrets=[APP_KEY, CLIENT_SECRET],
            alerts=alerts,
            read_back=read_back,
        )
