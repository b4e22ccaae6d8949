"""TOP request signing: the official vector, and each sign method against digests derived
independently (a hand-written signing string, digested by OpenSSL)."""

from __future__ import annotations

import pytest
from crmbridge_fliggy.signing import sign, signing_string, verify

OFFICIAL = {
    "method": "taobao.item.seller.get",
    "app_key": "12345678",
    "session": "test",
    "timestamp": "2016-01-01 12:00:00",
    "format": "json",
    "v": "2.0",
    "sign_method": "md5",
    "fields": "num_iid,title,nick,price,num",
    "num_iid": "11223344",
}


def xhotel(method: str) -> dict[str, str]:
    return {
        "app_key": "12345678",
        "session": "test-session",
        "timestamp": "2024-05-01 12:00:00",
        "format": "json",
        "v": "2.0",
        "method": "taobao.xhotel.order.search",
        "created_start": "2024-04-20 00:00:00",
        "created_end": "2024-05-01 00:00:00",
        "page_no": "1",
        "trade_status": "TRADE_SUCCESS",
        "sign_method": method,
    }


def test_official_vector_string_is_sorted_keys_and_raw_values():
    assert (
        "helloworld"
        + signing_string(OFFICIAL)
        + "helloworld"
        == "helloworldapp_key12345678fieldsnum_iid,title,nick,price,numformatjsonmethodtaobao.item.seller.get"
        "num_iid11223344sessiontestsign_methodmd5timestamp2016-01-01 12:00:00v2.0helloworld"
    )


def test_official_vector_md5_signature():
    assert sign(OFFICIAL, "helloworld", "md5") == "66987CB115214E59E6EC978214934FB8"


def xhotel_string(method: str) -> str:
    """The xhotel request's signing string, written out by hand from TOP's rule (keys in byte
    order, key then raw value, nothing between), not by the code under test."""
    return (
        "app_key12345678"
        "created_end2024-05-01 00:00:00"
        "created_start2024-04-20 00:00:00"
        "formatjson"
        "methodtaobao.xhotel.order.search"
        "page_no1"
        "sessiontest-session"
        f"sign_method{method}"
        "timestamp2024-05-01 12:00:00"
        "trade_statusTRADE_SUCCESS"
        "v2.0"
    )


@pytest.mark.parametrize("method", ["md5", "hmac", "hmac-sha256"])
def test_the_xhotel_signing_string_is_the_one_written_out_by_hand(method):
    assert signing_string(xhotel(method)) == xhotel_string(method)


# Each digest below was computed with OpenSSL from xhotel_string(), not with crmbridge:
#   md5:          printf '%s' "helloworld${S}helloworld" | openssl dgst -md5
#   hmac:         printf '%s' "$S" | openssl dgst -md5 -hmac helloworld
#   hmac-sha256:  printf '%s' "$S" | openssl dgst -sha256 -hmac helloworld
@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("md5", "1AA8CE0A4538E2B4E4D59B7C387C7235"),
        ("hmac", "D147E1D70DCDE4D6B918AE78E4533214"),
        ("hmac-sha256", "8D184721D78E4DBE97685624D07B21D217B9BBA95F6C855DFBC1C8649DD1D26D"),
    ],
)
def test_each_sign_method_matches_the_worked_xhotel_example(method, expected):
    assert sign(xhotel(method), "helloworld", method) == expected


def test_the_sign_parameter_itself_is_not_signed():
    params = {**OFFICIAL, "sign": "ANYTHING"}
    assert sign(params, "helloworld", "md5") == "66987CB115214E59E6EC978214934FB8"


def test_utf8_values_are_signed_as_raw_bytes_not_url_encoded():
    params = {**xhotel("hmac-sha256"), "trade_status": "已确认"}
    assert signing_string(params).endswith("trade_status已确认v2.0")
    assert sign(params, "helloworld", "hmac-sha256") != sign(
        xhotel("hmac-sha256"), "helloworld", "hmac-sha256"
    )


@pytest.mark.parametrize("method", ["md5", "hmac", "hmac-sha256"])
def test_verify_rejects_a_tampered_parameter(method):
    params = xhotel(method)
    params["sign"] = sign(params, "helloworld", method)
    assert verify(params, "helloworld")
    assert not verify({**params, "page_no": "2"}, "helloworld")
    assert not verify(params, "wrong-secret")


def test_empty_parameters_are_refused_because_sdks_sign_them_differently():
    with pytest.raises(ValueError, match="trade_status"):
        sign({**xhotel("md5"), "trade_status": ""}, "helloworld", "md5")


def test_unknown_sign_method_is_an_error():
    with pytest.raises(ValueError, match="sign_method"):
        sign(xhotel("sha1"), "helloworld", "sha1")  # type: ignore[arg-type]
