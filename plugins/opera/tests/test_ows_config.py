"""The `[sources.NAME]` table of an OPERA 5 source: the issue's keys, documented, validated."""

from __future__ import annotations

import re

import pytest
from crmbridge_opera.ows.config import OwsConfig
from pydantic import ValidationError

from tests.conftest import REPO

BASE = {
    "base_url": "https://opera5.hotel.example/OWS_WS_51/",
    "username": "CRMBRIDGE",
    "password": "x",
    "destination_entity": "SHA05",
    "hotel_code": "SHA05",
}


def test_the_issues_keys_are_all_there():
    required = {
        "base_url", "wsdl_dir", "username", "password", "domain", "origin_entity", "origin_system",
        "destination_entity", "destination_system", "hotel_code", "chain_code", "backfill_days",
        "lookahead_days", "alert_code", "alert_area",
    }  # fmt: skip
    assert required <= set(OwsConfig.model_fields)


def test_every_key_is_in_the_readme_table():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The OPERA 5 adapter", 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    assert set(OwsConfig.model_fields) <= documented


def test_service_urls_are_built_from_the_base_url():
    cfg = OwsConfig.model_validate(BASE)
    assert cfg.service_url("Reservation") == "https://opera5.hotel.example/OWS_WS_51/Reservation.asmx"


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("base_url", "opera5.local", "https://"),
        ("timezone", "Mars/Olympus", "IANA"),
        ("nonsense", 1, "Extra"),
    ],
)
def test_a_bad_value_is_refused_with_what_to_do(key, value, says):
    with pytest.raises(ValidationError, match=says):
        OwsConfig.model_validate({**BASE, key: value})
