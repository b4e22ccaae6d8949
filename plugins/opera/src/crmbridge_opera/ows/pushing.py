"""Writing back to OPERA 5: reservation alerts, profile notes and profile preferences.

The push-ledger protocol is the OHIP adapter's (`AlertPusher._deliver`): one slot per
(target, record, rule), marked `sending` before the request, an uncertain outcome settled by
reading back. The OWS calls:

* reservation alerts: `Reservation.GuestRequests` with ActionType ADD, UPDATE (by AlertID)
  and DELETE; read back with ActionType FETCH;
* profile notes: `Name.InsertComment` / `UpdateComment` (by operaId) / `DeleteComment`, read
  back with `FetchCommentList`;
* profile preferences (code `PREF:<type>:<value>`): `Name.InsertPreference` /
  `DeletePreference`, read back with `FetchPreferenceList`.

Only what crmbridge created is ever updated or removed: the ledger holds the ids it wrote,
and a preference the desk entered before crmbridge learnt it is left alone (recorded as
present, not owned, so retiring it removes nothing).
"""

from __future__ import annotations

from typing import Any

from crmbridge.adapters.base import PushResult, SourceContext
from crmbridge.models import Alert

from ..alerts import PREFERENCE_PREFIX, SENT, AlertPusher
from .client import OwsClient
from .errors import OwsError
from .mapping import many, pick, text_value
from .reading import _uid

NOT_OWNED = "present in OPERA already (entered by staff); not owned by crmbridge"


def _paragraph(text: str) -> dict[str, Any]:
    return {"_value_1": [{"Text": {"_value_1": text}}]}


def _descriptive(text: str) -> dict[str, Any]:
    return {"Text": {"TextElement": [{"_value_1": text}]}}


def _text_of(obj: Any) -> str:
    """Text of a Paragraph (alerts) or DescriptiveText (comments, preferences)."""
    parts = [text_value(c.get("Text")) or "" for c in pick(obj, "_value_1") or () if isinstance(c, dict)]
    parts += [text_value(t) or "" for t in many(obj, "Text", "TextElement")]
    return " ".join(p for p in parts if p)


def _missing(exc: OwsError) -> bool:
    return "not found" in str(exc).lower()


class OwsPusher(AlertPusher):
    def __init__(self, ctx: SourceContext, client: OwsClient) -> None:  # type: ignore[override]
        super().__init__(ctx, client)  # type: ignore[arg-type]
        self.ows = client

    @property
    def hotel_ref(self) -> dict[str, Any]:
        ref: dict[str, Any] = {"_value_1": "", "hotelCode": self.cfg.hotel_code}
        if self.cfg.chain_code:
            ref["chainCode"] = self.cfg.chain_code
        return ref

    # -- reservation alerts -----------------------------------------------------------------
    def _guest_requests(self, rid: str, action: str, alerts: list[dict[str, Any]] | None = None) -> Any:
        body: dict[str, Any] = {
            "HotelReference": self.hotel_ref,
            "ResvNameId": _uid(rid),
            "ActionType": action,
        }
        if alerts is not None:
            body["GuestRequests"] = {"Alerts": {"ReservationAlerts": alerts}}
        return self.ows.call("Reservation", "GuestRequests", write=action != "FETCH", **body)

    def reservation_alerts(self, rid: str) -> list[Any]:
        resp = self._guest_requests(rid, "FETCH")
        return many(resp, "GuestRequests", "Alerts", "ReservationAlerts")

    def _area(self, alert: Alert) -> str:
        return alert.area.upper() if "area" in alert.model_fields_set else self.cfg.alert_area

    def _reservation_alert(self, alert: Alert, fp: str) -> PushResult:
        code, area = self.cfg.alert_code, self._area(alert)

        def item(alert_id: str | None) -> dict[str, Any]:
            it: dict[str, Any] = {
                "Code": code, "Area": area, "Description": _paragraph(alert.text), "screenNotification": True,
            }  # fmt: skip
            if alert_id:
                it["AlertID"] = float(alert_id)
            return it

        def send(alert_id: str | None) -> None:
            if alert_id:
                try:
                    self._guest_requests(alert.pms_id, "UPDATE", [item(alert_id)])
                    return
                except OwsError as exc:
                    if not _missing(exc):
                        raise
                    # The alert we meant to replace is gone (deleted at the desk): add anew.
            self._guest_requests(alert.pms_id, "ADD", [item(None)])

        def find() -> str | None:
            for a in self.reservation_alerts(alert.pms_id):
                if (
                    pick(a, "Code") == code
                    and _text_of(pick(a, "Description")) == alert.text
                    and pick(a, "AlertID")
                ):
                    return str(int(a["AlertID"]))
            return None

        return self._deliver(alert, fp, send, find)

    # -- profile notes ----------------------------------------------------------------------
    def _title(self, alert: Alert) -> str:
        return f"crmbridge {alert.rule}"[:80]

    def _profile_note(self, alert: Alert, fp: str) -> PushResult:
        title = self._title(alert)

        def comment(opera_id: str | None) -> dict[str, Any]:
            c: dict[str, Any] = {
                **_descriptive(alert.text), "commentTitle": title, "commentType": self.cfg.comment_type,
                "internalYn": "N",
            }  # fmt: skip
            if opera_id:
                c["operaId"] = int(opera_id)
            return c

        def send(opera_id: str | None) -> None:
            if opera_id:
                try:
                    self.ows.call(
                        "Name",
                        "UpdateComment",
                        write=True,
                        NameID=_uid(alert.pms_id),
                        Comment=comment(opera_id),
                    )
                    return
                except OwsError as exc:
                    if not _missing(exc):
                        raise
            self.ows.call(
                "Name", "InsertComment", write=True, NameID=_uid(alert.pms_id), Comment=comment(None),
                Resort=self.cfg.hotel_code,
            )  # fmt: skip

        def find() -> str | None:
            for c in self.comments(alert.pms_id):
                if pick(c, "commentTitle") == title and _text_of(c) == alert.text and pick(c, "operaId"):
                    return str(c["operaId"])
            return None

        return self._deliver(alert, fp, send, find)

    def comments(self, pid: str) -> list[Any]:
        resp = self.ows.call("Name", "FetchCommentList", NameID=_uid(pid))
        return many(resp, "CommentList", "Comment")

    # -- profile preferences ----------------------------------------------------------------
    def preferences(self, pid: str) -> list[Any]:
        resp = self.ows.call("Name", "FetchPreferenceList", NameID=_uid(pid))
        return many(resp, "PreferenceList", "Preference")

    def _preference(self, alert: Alert, fp: str) -> PushResult:
        try:
            _, group, code = alert.code.split(":", 2)
        except ValueError:
            raise ValueError("a preference alert's code must be PREF:<type>:<value>") from None

        def present() -> Any:
            for p in self.preferences(alert.pms_id):
                if pick(p, "preferenceType") == group and pick(p, "preferenceValue") == code:
                    return p
            return None

        entry = self.ledger.get(alert.target, alert.pms_id, alert.rule)
        if entry is None:
            existing = present()
            if existing is not None and pick(existing, "insertUser") != self.cfg.username:
                self.ledger.record(alert, SENT, external_id=None, detail=NOT_OWNED)
                return PushResult(alert.pms_id, fp, "unchanged", NOT_OWNED)
        elif entry.status == SENT and entry.external_id is None:
            return PushResult(alert.pms_id, fp, "unchanged", NOT_OWNED)  # the desk's, not ours

        def send(_: str | None) -> None:
            pref = {
                "PreferenceDescription": _descriptive(alert.text[:200]),
                "resortCode": self.cfg.hotel_code, "preferenceType": group, "preferenceValue": code,
            }  # fmt: skip
            self.ows.call("Name", "InsertPreference", write=True, NameID=_uid(alert.pms_id), Preference=pref)

        def find() -> str | None:
            return f"{group}:{code}" if present() is not None else None

        return self._deliver(alert, fp, send, find)

    # -- retiring ---------------------------------------------------------------------------
    def _retire(self, alert: Alert, fp: str) -> PushResult:
        """Remove what a slot holds, if crmbridge created it; a desk-entered item stays."""
        entry = self.ledger.get(alert.target, alert.pms_id, alert.rule)
        if entry is None or entry.status == "retired":
            return PushResult(alert.pms_id, fp, "unchanged")
        ext = entry.external_id
        try:
            if ext and alert.target == "reservation":
                self._guest_requests(alert.pms_id, "DELETE", [{"AlertID": float(ext)}])
            elif ext and ":" in ext and alert.target == "profile":
                group, code = ext.split(":", 1)
                pref = {
                    "PreferenceDescription": _descriptive(code),
                    "preferenceType": group,
                    "preferenceValue": code,
                }
                self.ows.call(
                    "Name", "DeletePreference", write=True, NameID=_uid(alert.pms_id), Preference=pref
                )
            elif ext and alert.target == "profile":
                self.ows.call(
                    "Name", "DeleteComment", write=True, NameID=_uid(alert.pms_id), CommentID=_uid(ext)
                )
        except OwsError as exc:
            if not _missing(exc):  # gone already (removed at the desk): nothing to remove
                raise
        self.ledger.retire(alert.target, alert.pms_id, alert.rule)
        return PushResult(alert.pms_id, fp, "retired")


__all__ = ["PREFERENCE_PREFIX", "OwsPusher"]
