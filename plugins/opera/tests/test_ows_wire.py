"""What goes over the wire to OPERA 5: WSDLs, the OGHeader, schema validity, errors, the budget."""

from __future__ import annotations

import filecmp

import httpx
import pytest
from crmbridge_opera.errors import OperaUnavailable
from crmbridge_opera.ows import subset
from crmbridge_opera.ows.client import OwsClient
from crmbridge_opera.ows.errors import OwsError
from crmbridge_opera.ows.schemas import PACKAGED

from tests.conftest import SHARED

from .ows_support import ows_config, ows_source, run

ORACLE_WSDLS = SHARED / "specs" / "opera-ows"
NAME_NS = "http://webservices.micros.com/ows/5.1/Name.wsdl"
CORE_NS = "http://webservices.micros.com/og/4.3/Core/"


def envelope(body: str, header: str | None = None) -> bytes:
    head = (
        header
        if header is not None
        else (
            f'<OGHeader xmlns="{CORE_NS}" transactionID="t1"><Authentication><UserCredentials>'
            "<UserName>CRMBRIDGE</UserName><UserPassword>Ows-Test-Passw0rd</UserPassword>"
            "</UserCredentials></Authentication></OGHeader>"
        )
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<soap:Header>{head}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def post(sim, op: str, body: bytes, service: str = "Name") -> httpx.Response:
    action = f'"http://webservices.micros.com/ows/5.1/{service}.wsdl#{op}"'
    return httpx.post(
        f"{sim.url}/{service}.asmx", content=body, headers={"SOAPAction": action, "Content-Type": "text/xml"}
    )


def test_the_packaged_wsdls_are_what_the_generator_makes_from_oracles(tmp_path):
    missing = [s for s in subset.OPERATIONS if not (ORACLE_WSDLS / f"{s}.wsdl").is_file()]
    if missing:
        pytest.skip(f"{ORACLE_WSDLS / (missing[0] + '.wsdl')} not present (fresh clone)")
    subset.generate(ORACLE_WSDLS, tmp_path)
    for service in subset.OPERATIONS:
        assert filecmp.cmp(tmp_path / f"{service}.wsdl", PACKAGED / f"{service}.wsdl", shallow=False), service


def test_the_packaged_wsdls_hold_only_facts_no_documentation():
    for service in subset.OPERATIONS:
        text = (PACKAGED / f"{service}.wsdl").read_text()
        assert "documentation" not in text and "annotation" not in text
        assert "microsdc" not in text  # Oracle's demo host is never an address we could call


def test_a_request_that_breaks_the_schema_is_refused_and_counted(ows_sim):
    bad = envelope(
        f'<FetchProfileRequest xmlns="{NAME_NS}"><NameID type="BOGUS">1</NameID><Oops/></FetchProfileRequest>'
    )
    resp = post(ows_sim, "FetchProfile", bad)
    assert resp.status_code == 500 and b"Fault" in resp.content and b"does not conform" in resp.content
    [v] = ows_sim.violations()
    assert "BOGUS" in v.violation and "Oops" in v.violation
    ows_sim.requests.clear()  # the fixture asserts the adapter itself sent no violation


def test_a_request_without_an_ogheader_or_with_the_wrong_soapaction_is_refused(ows_sim):
    body = f'<FetchProfileRequest xmlns="{NAME_NS}"><NameID type="INTERNAL">1</NameID></FetchProfileRequest>'
    assert post(ows_sim, "FetchProfile", envelope(body, header="")).status_code == 500
    assert post(ows_sim, "InsertComment", envelope(body)).status_code == 500
    assert post(ows_sim, "FetchProfile", envelope(body)).status_code == 200
    assert [bool(r.violation) for r in ows_sim.requests] == [True, True, False]
    ows_sim.requests.clear()


def test_xml_with_a_dtd_is_refused_before_parsing(ows_sim):
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    resp = post(ows_sim, "FetchProfile", evil)
    assert resp.status_code == 400 and b"DTD" in resp.content
    ows_sim.requests.clear()


def test_every_call_carries_the_ogheader_and_validates(store, ows_sim):
    run(store, ows_source(store, ows_config(ows_sim)))
    soap = [r for r in ows_sim.requests if r.operation != "wsdl"]
    assert soap and all(r.status == 200 and r.violation is None for r in soap)
    assert {r.operation for r in soap} >= {"FutureBookingSummary", "FetchBooking", "FetchProfile", "Invoice"}
    # The WSDLs came from the server's own ?wsdl, once per service for the whole process.
    assert {r.service for r in ows_sim.requests if r.operation == "wsdl"} <= {
        "Reservation",
        "Name",
        "ResvAdvanced",
    }


def test_wrong_credentials_give_an_error_naming_the_keys_to_check(store, ows_sim):
    ctx = ows_source(store, ows_config(ows_sim, password="not-the-password"))
    res = run(store, ctx)["reservations"]
    assert res.status == "failed"
    assert (
        "User authentication failed" in res.error and "`password`" in res.error and "`username`" in res.error
    )
    assert "not-the-password" not in res.error


def test_a_result_fail_is_not_retried_and_says_what_failed(ows_sim):
    ows_sim.fault("fail", "FetchProfile", times=5)
    client = OwsClient(ows_config(ows_sim))
    with pytest.raises(OwsError, match="FetchProfile failed: FAIL: Simulated failure"):
        client.call("Name", "FetchProfile", NameID={"_value_1": "1", "type": "INTERNAL"})
    assert ows_sim.calls("FetchProfile", ok=False) == 1


def test_a_server_that_keeps_failing_reads_gives_up_with_what_to_check(ows_sim):
    ows_sim.fault("http503", "FetchProfile", times=10)
    client = OwsClient(ows_config(ows_sim, max_attempts=3))
    with pytest.raises(OperaUnavailable, match=r"FetchProfile failed after 3 attempts.*is reachable"):
        client.call("Name", "FetchProfile", NameID={"_value_1": "1", "type": "INTERNAL"})


def test_a_wrong_base_url_names_the_key(ows_sim):
    client = OwsClient(ows_config(ows_sim, base_url=ows_sim.url + "/nowhere"))
    with pytest.raises(Exception, match="base_url"):
        client.call("Name", "FetchProfile", NameID={"_value_1": "1", "type": "INTERNAL"})


def test_a_run_never_exceeds_the_configured_request_rate(store, ows_sim):
    ctx = ows_source(store, ows_config(ows_sim, max_requests_per_second=8, lookahead_days=3, backfill_days=2))
    res = run(store, ctx)
    assert all(r.status == "ok" for r in res.values())
    assert len(ows_sim.requests) > 20  # long enough to measure
    assert ows_sim.max_rate(1.0) <= 8


def test_the_sync_summary_reports_the_requests_made(store, ows_sim):
    res = run(store, ows_source(store, ows_config(ows_sim)))
    assert all(r.requests and r.requests > 0 for r in res.values())
    assert sum(r.requests for r in res.values()) == len(ows_sim.requests)
    assert res["reservations"].as_dict()["requests"] == res["reservations"].requests
