"""Every request the adapter sends conforms to the OHIP contract (Oracle's OpenAPI, extracted).

The simulator here runs with its own validation switched off, so it answers whatever it is
sent; each recorded request is then checked independently against the spec: the path and
method exist, required headers and query parameters are present and well-formed, no
undeclared query parameter is sent, and JSON bodies validate against the operation's schema.
"""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from crmbridge_opera.conformance import SpecViolation, load_spec
from crmbridge_opera.simulator import OhipSimulator

from crmbridge.engine.sync import SyncEngine
from crmbridge.models import Alert
from crmbridge.plugins import load_plugins

from .conftest import APP_KEY, CLIENT_SECRET, sim_config, source

HEADERS = {"authorization": "Bearer t", "x-app-key": APP_KEY, "x-hotelid": "SHA01"}


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def test_checker_refuses_an_unknown_path(spec):
    with pytest.raises(SpecViolation, match="no OHIP operation in the contract has the path /rsv/v1/hotels/"):
        spec.validate("GET", "/rsv/v1/hotels/SHA01/bookings", "", HEADERS, b"")


def test_checker_refuses_a_missing_required_header(spec):
    headers = {k: v for k, v in HEADERS.items() if k != "x-hotelid"}
    with pytest.raises(SpecViolation, match="required header parameter 'x-hotelid' is missing"):
        spec.validate("GET", "/crm/v1/profiles/1", "", headers, b"")


def test_checker_refuses_a_malformed_app_key(spec):
    with pytest.raises(SpecViolation, match="'x-app-key': does not match the declared pattern"):
        spec.validate("GET", "/crm/v1/profiles/1", "", {**HEADERS, "x-app-key": "not-a-uuid"}, b"")


def test_checker_refuses_undeclared_and_out_of_range_query_parameters(spec):
    path = "/int/v1/externalSystem/CRM/hotels/SHA01/businessEvents"
    with pytest.raises(SpecViolation) as exc:
        spec.validate("GET", path, "limit=50&since=2026-11-01", HEADERS, b"")
    assert "50 is above the maximum 20" in str(exc.value) and "'since' is not defined" in str(exc.value)


def test_checker_refuses_a_body_that_breaks_the_schema(spec):
    body = {"reservations": [{"reservationId": {"id": "1"}, "alert": [{"code": "CRM", "area": "Lobby"}]}]}
    with pytest.raises(SpecViolation, match="body reservations/0/alert/0/area"):
        spec.validate(
            "POST", "/rsv/v1/hotels/SHA01/reservations/alerts", "", HEADERS, json.dumps(body).encode()
        )


def test_checker_refuses_a_token_request_without_basic_auth(spec):
    form = {"content-type": "application/x-www-form-urlencoded", "x-app-key": APP_KEY}
    with pytest.raises(SpecViolation, match="HTTP Basic client authentication is missing"):
        spec.validate("POST", "/oauth/v1/tokens", "", form, b"grant_type=client_credentials&scope=x")


def test_every_request_the_adapter_sends_conforms_to_the_ohip_specs(sqlite_store, spec, today):
    store = sqlite_store
    sim = OhipSimulator(validate=False, app_key=APP_KEY, client_secret=CLIENT_SECRET)
    sim.username, sim.password = "CRM_INTEGRATION", "pw-Value-1"
    sim.populate(60, first_arrival=today - timedelta(days=10), days=20, seed=5, today=today)
    hooks = load_plugins()
    with sim:
        ctx = source(store, sim_config(sim, backfill_days=10, enterprise_id="OHIPCN"))
        SyncEngine(store, hooks).sync_source(ctx, hooks.adapter_type("opera"))
        rid = next(r for r, i in sim.state.reservations.items() if i["reservationStatus"] == "Reserved")
        pid = sim.state.reservations[rid]["reservationGuest"]["id"]
        sim.change_reservation(rid, roomType="STE")
        sim.add_event("Profile", pid)
        # A second source with the password grant runs the incremental path.
        pw = source(store, sim_config(sim, username="CRM_INTEGRATION", password="pw-Value-1"), "opera_pw")
        pw.inbox, pw.ledger = ctx.inbox, ctx.ledger
        SyncEngine(store, hooks).sync_source(pw, hooks.adapter_type("opera"))
        alert = Alert(
            target="reservation", pms_source="opera", pms_id=rid, code="CRM", text="高楼层", rule="floor"
        )
        note = Alert(
            target="profile", pms_source="opera", pms_id=pid, code="GEN", text="喜欢绿茶", rule="tea"
        )
        pref = Alert(
            target="profile", pms_source="opera", pms_id=pid, code="PREF:PILLOW:SOFT", text="soft", rule="p"
        )
        hooks.push_alerts(ctx, [alert, note, pref])
        hooks.push_alerts(ctx, [a.model_copy(update={"text": a.text + " !"}) for a in (alert, note)])
    problems, seen = [], set()
    for r in sim.requests:
        try:
            seen.add(spec.validate(r.method, r.path, r.query, r.headers, r.body).operation_id)
        except SpecViolation as exc:
            problems.append(f"{r.method} {r.path}?{r.query}: {exc}")
    assert problems == []
    assert seen == {
        "getToken", "getHotelReservations", "getProfile", "getFolio", "getBusinessEvents",
        "postBulkReservationAlerts", "getAlertNotices", "putProfile", "postPreference",
    }  # fmt: skip
    grants = {r.body.decode().split("&")[0] for r in sim.requests if r.path == "/oauth/v1/tokens"}
    assert grants == {"grant_type=client_credentials", "grant_type=password"}
    updates = [json.loads(r.body) for r in sim.requests if r.operation == "postBulkReservationAlerts"]
    assert "id" in updates[-1]["reservations"][0]["alert"][0]  # the change went out as an update


def test_the_simulator_refuses_a_request_that_breaks_the_spec(today):
    sim = OhipSimulator(app_key=APP_KEY, client_secret=CLIENT_SECRET)
    sim.populate(1, first_arrival=today, days=1)
    with sim:
        _break_the_spec(sim)


def _break_the_spec(sim):
    token = httpx.post(
        f"{sim.url}/oauth/v1/tokens",
        data={"grant_type": "client_credentials", "scope": "x"},
        auth=(sim.client_id, sim.client_secret),
        headers={"x-app-key": sim.app_key},
    ).json()["access_token"]
    headers = {"authorization": f"Bearer {token}", "x-app-key": sim.app_key}  # no x-hotelid
    resp = httpx.get(f"{sim.url}/crm/v1/profiles/{next(iter(sim.state.profiles))}", headers=headers)
    assert resp.status_code == 400 and resp.headers["content-type"].startswith("application/problem+json")
    assert "'x-hotelid' is missing" in resp.json()["detail"]
    unknown = httpx.get(f"{sim.url}/rsv/v1/hotels/SHA01/bookings", headers={**headers, "x-hotelid": "SHA01"})
    assert unknown.status_code == 404
    assert [r.path for r in sim.violations()] == [
        f"/crm/v1/profiles/{next(iter(sim.state.profiles))}",
        "/rsv/v1/hotels/SHA01/bookings",
    ]
