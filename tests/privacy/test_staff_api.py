"""The staff API over real loopback HTTP: tokens, roles, 401/403 bodies, the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from crmbridge.access import staff
from crmbridge.access.roles import ROLES
from crmbridge.staff_api import StaffApiServer, build_app
from crmbridge.staff_api.openapi import document

from .conftest import NOW
from .test_roles import expected_keys


@pytest.fixture
def api(hotel) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    tokens = {}
    with hotel.store.engine.begin() as conn:
        for name in ROLES:
            staff.add(conn, f"{name}-1", name, NOW)
            tokens[name] = staff.issue_token(conn, f"{name}-1", NOW)
    plans = [
        {
            "reservation": "R-5001",
            "hotel": "SHA01",
            "arrival": "2026-12-01",
            "departure": "2026-12-03",
            "guest_id": hotel.guests["zhang"],
            "alerts": [{"rule": "diet", "text": "素食"}],
        },
    ]
    app = build_app(hotel.store, arrivals=lambda day: plans if day.isoformat() == "2026-12-01" else [])
    with StaffApiServer(app, port=0) as srv, httpx.Client(base_url=srv.url, timeout=10) as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("role_name", sorted(ROLES))
def test_each_role_sees_exactly_its_fields_through_the_api(hotel, api, role_name):
    client, tokens = api
    r = client.get(f"/api/v1/guests/{hotel.guests['zhang']}", headers=bearer(tokens[role_name]))
    assert r.status_code == 200
    assert set(r.json()) == expected_keys(role_name)


def test_no_token_is_401_with_a_body_that_says_what_to_do(api):
    client, _ = api
    r = client.get("/api/v1/guests", params={"q": "张伟"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"] == "unauthorized" and "staff token" in r.json()["detail"]
    assert client.get("/api/v1/me", headers=bearer("crb_not-a-token")).status_code == 401


def test_a_revoked_staff_members_token_is_refused_on_the_next_request(hotel, api):
    client, tokens = api
    assert client.get("/api/v1/me", headers=bearer(tokens["sales"])).status_code == 200
    with hotel.store.engine.begin() as conn:
        staff.revoke(conn, "sales-1", NOW)
    r = client.get("/api/v1/me", headers=bearer(tokens["sales"]))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_a_role_without_the_action_gets_403(api):
    client, tokens = api
    r = client.get("/api/v1/reviews", headers=bearer(tokens["fnb"]))
    assert r.status_code == 403 and r.json()["error"] == "forbidden" and "fnb" in r.json()["detail"]


def test_search_by_phone_returns_masked_guests(hotel, api):
    client, tokens = api
    r = client.get("/api/v1/guests", params={"q": "13800138000"}, headers=bearer(tokens["front_office"]))
    [g] = r.json()
    assert g["guest_id"] == hotel.guests["zhang"] and g["phones"] == ["+86138****8000"]


def test_marketing_gets_404_for_an_unconsented_guest(hotel, api):
    client, tokens = api
    r = client.get(f"/api/v1/guests/{hotel.guests['li']}", headers=bearer(tokens["marketing"]))
    assert r.status_code == 404
    assert (
        client.get("/api/v1/guests", params={"q": "李娜"}, headers=bearer(tokens["marketing"])).json() == []
    )


def test_unmask_without_a_reason_is_400(hotel, api):
    client, tokens = api
    r = client.get(
        f"/api/v1/guests/{hotel.guests['zhang']}",
        params={"unmask": "1"},
        headers=bearer(tokens["front_office"]),
    )
    assert r.status_code == 400 and "reason" in r.json()["detail"]


def test_arrivals_list_the_guest_masked_with_the_alerts(hotel, api):
    client, tokens = api
    [a] = client.get(
        "/api/v1/arrivals", params={"date": "2026-12-01"}, headers=bearer(tokens["front_office"])
    ).json()
    assert a["guest"]["name"] != "张伟" and a["alerts"] == [{"rule": "diet", "text": "素食"}]
    assert (
        client.get(
            "/api/v1/arrivals", params={"date": "tomorrow"}, headers=bearer(tokens["front_office"])
        ).status_code
        == 400
    )


def test_consent_is_recorded_through_the_api(hotel, api):
    client, tokens = api
    body = {"purpose": "marketing", "granted": True, "wording_version": "n-2026-1"}
    r = client.post(
        f"/api/v1/guests/{hotel.guests['li']}/consents", json=body, headers=bearer(tokens["guest_relations"])
    )
    assert r.status_code == 201
    assert (
        client.get(f"/api/v1/guests/{hotel.guests['li']}", headers=bearer(tokens["marketing"])).status_code
        == 200
    )
    bad = client.post(
        f"/api/v1/guests/{hotel.guests['li']}/consents",
        json=body | {"purpose": "resale"},
        headers=bearer(tokens["guest_relations"]),
    )
    assert bad.status_code == 400


def test_the_openapi_document_is_valid_and_describes_every_route(api):
    client, _ = api
    doc = client.get("/api/v1/openapi.json").json()
    validate(doc)
    assert doc == document()
    routes = {r.path for r in build_app(None).routes if isinstance(r, Route)} - {"/api/v1/openapi.json"}  # type: ignore[arg-type]
    assert routes == set(doc["paths"])
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert {"401", "403"} <= set(op["responses"]), path
