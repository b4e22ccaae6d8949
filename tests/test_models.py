"""Canonical models: normalisation, and validation errors that never echo PII."""

from datetime import date
from decimal import Decimal

import pytest

from crmbridge.models import GuestProfile, RecordInvalid, Reservation, normalise_phone, validate_record


def _reservation(**over):
    data = {
        "source": "legacy",
        "source_id": "R-1001",
        "hotel_code": "SHA01",
        "arrival": "2026-12-01",
        "departure": "2026-12-03",
        "total": {"amount": "1288.00", "currency": "CNY"},
        "guest": {
            "source": "legacy",
            "source_id": "R-1001",
            "local_name": "张伟",
            "phones": [{"number": "138 0013 8000"}],
        },
    }
    data.update(over)
    return data


def test_chinese_mobile_number_is_normalised_to_e164():
    res = validate_record(Reservation, _reservation())
    assert res.guest.phones[0].number == "+8613800138000"


def test_phone_region_comes_from_context():
    p = validate_record(
        GuestProfile,
        {"source": "x", "source_id": "1", "phones": [{"number": "(212) 555-0143"}]},
        context={"phone_region": "US"},
    )
    assert p.phones[0].number == "+12125550143"


def test_amounts_are_decimal_with_currency():
    res = validate_record(Reservation, _reservation())
    assert res.total.amount == Decimal("1288.00") and res.total.currency == "CNY"


def test_malformed_date_names_field_and_record_but_not_value():
    with pytest.raises(RecordInvalid) as err:
        validate_record(Reservation, _reservation(arrival="2026-13-45"))
    msg = str(err.value)
    assert "legacy/R-1001" in msg and "arrival" in msg
    assert "2026-13-45" not in msg


def test_invalid_phone_error_does_not_leak_the_number():
    bad = _reservation()
    bad["guest"]["phones"] = [{"number": "13800-not-a-phone"}]
    with pytest.raises(RecordInvalid) as err:
        validate_record(Reservation, bad)
    assert "guest.phones.0.number" in str(err.value)
    assert "13800" not in str(err.value)


def test_departure_before_arrival_is_refused():
    with pytest.raises(RecordInvalid, match="departure is before arrival"):
        validate_record(Reservation, _reservation(arrival=date(2026, 12, 5)))


def test_unknown_fields_are_refused_for_minimisation():
    with pytest.raises(RecordInvalid, match="card_number"):
        validate_record(Reservation, _reservation(card_number="4111111111111111"))


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "138 0013 8000",
        "+86 138-0013-8000",
        "0086 13800138000",
        "8613800138000",
        "+86 (139) 0013 9000",
        "19912345678",
        "+8615012345678",
    ],
)
def test_fast_path_for_mainland_mobiles_agrees_with_phonenumbers(raw):
    import phonenumbers

    expected = phonenumbers.format_number(phonenumbers.parse(raw, "CN"), phonenumbers.PhoneNumberFormat.E164)
    assert normalise_phone.__wrapped__(raw, "CN") == expected


def test_landline_and_foreign_numbers_take_the_library_path():
    assert normalise_phone("021 6234 5678", "CN") == "+862162345678"
    assert normalise_phone("+49 30 901820", "CN") == "+4930901820"
    assert normalise_phone("(212) 555-0143", "US") == "+12125550143"


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_reservation_with_an_empty_source_id_is_refused_naming_the_field(blank):
    with pytest.raises(RecordInvalid) as err:
        validate_record(Reservation, _reservation(source_id=blank))
    assert "source_id" in str(err.value)


def test_a_guest_with_an_empty_source_id_is_refused():
    with pytest.raises(RecordInvalid, match="source_id"):
        validate_record(GuestProfile, {"source": "ctrip", "source_id": "", "local_name": "李娜"})


def test_a_record_with_an_empty_source_id_goes_to_the_batch_rejects_with_its_reason():
    from crmbridge.adapters.base import Batch, validate_into

    batch = Batch([], None)
    validate_into(Reservation, _reservation(source_id=" "), "raw row", batch)
    validate_into(Reservation, _reservation(source_id="R-1002"), "raw row", batch)
    assert [r.source_id for r in batch.records] == ["R-1002"]
    [reject] = batch.rejects
    assert "source_id" in reject.reason and "张伟" not in reject.reason
