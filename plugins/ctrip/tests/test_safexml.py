"""Parsing what arrives from the internet: no entity expansion, no DTDs, no network, bounded."""

from __future__ import annotations

import pytest
from crmbridge_ctrip.safexml import SOAP12_NS, UnsafeXml, parse, unwrap

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<OTA_HotelResRQ xmlns="http://www.opentravel.org/OTA/2003/05">&lol9;</OTA_HotelResRQ>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<OTA_CancelRQ xmlns="http://www.opentravel.org/OTA/2003/05"><UniqueID Type="501" ID="&xxe;"/>
</OTA_CancelRQ>"""


def test_billion_laughs_is_refused_without_expanding_anything():
    with pytest.raises(UnsafeXml, match="DTD"):
        parse(BILLION_LAUGHS)


def test_an_external_entity_is_refused_and_never_read():
    with pytest.raises(UnsafeXml, match="DTD") as err:
        parse(EXTERNAL_ENTITY)
    assert "root:" not in str(err.value)


def test_a_dtd_hidden_in_utf16_is_refused_too():
    body = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><OTA_ReadRQ>&x;</OTA_ReadRQ>'
    utf16 = body.encode("utf-16")
    assert b"<!DOCTYPE" not in utf16  # the byte scan cannot see it; the parsed tree can
    with pytest.raises(UnsafeXml, match="DTD"):
        parse(utf16)


def test_an_oversize_body_is_refused_before_parsing():
    with pytest.raises(UnsafeXml, match="larger than 1024 bytes"):
        parse(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1024)


def test_absurd_nesting_is_refused_by_the_depth_limit():
    with pytest.raises(UnsafeXml, match="malformed"):
        parse(b"<a>" * 20_000 + b"</a>" * 20_000)


def test_malformed_xml_error_names_the_line_not_the_content():
    with pytest.raises(UnsafeXml) as err:
        parse("<OTA_HotelResRQ><Surname>王芳</Surname>\n<Given>".encode())
    assert "malformed XML (line" in str(err.value) and "王芳" not in str(err.value)


def test_soap_11_12_and_bare_ota_messages_are_all_unwrapped():
    ota = b'<OTA_ReadRQ xmlns="http://www.opentravel.org/OTA/2003/05" Version="2.1"/>'
    soap11 = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        + ota
        + b"</s:Body></s:Envelope>"
    )
    soap12 = soap11.replace(b"http://schemas.xmlsoap.org/soap/envelope/", SOAP12_NS.encode())
    for body, soap in ((soap11, True), (soap12, True), (ota, False)):
        env = unwrap(parse(body))
        assert env.message.tag.endswith("OTA_ReadRQ") and env.soap is soap


def test_an_envelope_without_a_message_is_refused():
    with pytest.raises(UnsafeXml, match="empty SOAP Body"):
        unwrap(
            parse(b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>')
        )
