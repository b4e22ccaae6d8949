"""OWS errors that say what to check. They never quote guest data or secrets."""

from __future__ import annotations

from ..errors import OperaError

# Words in OWS's Result text that point at the credentials, the hotel, or the record.
_AUTH = ("auth", "credential", "password", "login", "user name", "username", "not authorized")
_HOTEL = ("resort", "hotel", "chain", "property")
_RECORD = ("not found", "does not exist", "invalid confirmation", "no reservation", "no profile")


def hint(operation: str, text: str, code: str | None) -> str:
    low = f"{text} {code or ''}".lower()
    if any(w in low for w in _AUTH):
        return "check `username`, `password` and `domain` of the source (the OWS user's credentials)"
    if any(w in low for w in _RECORD):
        return "OPERA does not know this record; check the id and `hotel_code`"
    if any(w in low for w in _HOTEL):
        return "check `hotel_code`, `chain_code` and `destination_entity`"
    if operation == "GuestRequests":
        return "check `alert_code` and `alert_area` against the property's alert codes"
    if operation in ("InsertComment", "UpdateComment"):
        return "check `comment_type` against the property's note types"
    return "see the OWS log on the OPERA server for this transaction id"


class OwsError(OperaError):
    """OPERA answered with `Result resultStatusFlag="FAIL"` or a SOAP Fault."""

    def __init__(self, operation: str, text: str, code: str | None = None, *, fault: bool = False) -> None:
        self.operation, self.code, self.fault = operation, code, fault
        what = "SOAP Fault" if fault else "FAIL"
        detail = f"{what}: {text[:300]}" + (f" (OperaErrorCode {code[:50]})" if code else "")
        super().__init__(f"OWS {operation} failed: {detail}; {hint(operation, text, code)}")


class OwsHttpError(OperaError):
    """The OWS server answered with an HTTP error and no SOAP body."""

    def __init__(self, operation: str, status: int, url_hint: str) -> None:
        self.operation, self.status = operation, status
        if status in (401, 403):
            what = "check `username` and `password`, and that the OWS user may call this service"
        elif status == 404:
            what = f"check `base_url` ({url_hint}): the service path was not found"
        else:
            what = "the OWS server failed; try again later"
        super().__init__(f"OWS {operation}: HTTP {status}; {what}")
