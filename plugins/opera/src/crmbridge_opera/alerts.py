"""Writing back to OPERA: reservation alerts, profile notes and profile preferences.

Every push goes through the core push ledger (`source.ledger`), one slot per (target, record,
rule) holding the fingerprint of what OPERA shows:

* same fingerprint, already sent: nothing is sent (`unchanged`);
* a changed alert is sent with the id of the one it replaces, so OPERA updates it in place
  (`postBulkReservationAlerts` creates *or updates*; `putProfile` likewise for comments);
* the slot is marked `sending` before the request, so a crash or a timeout after sending is
  visible: the adapter then reads the reservation's alerts back (`getAlertNotices`) or the
  profile (`getProfile`) and sends again only if the alert is not there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crmbridge.api import Alert, PushResult, SourceContext

from .client import OperaClient
from .errors import OperaApiError, OperaError, UncertainOutcome
from .mapping import OWNED_PREFERENCE, alert_body, preference_body, profile_comment_body

if TYPE_CHECKING:
    from crmbridge.api import PushLedger

SENT, SENDING = "sent", "sending"
WITHDRAWN = "(withdrawn by CRM / 已撤销)"
PREFERENCE_PREFIX = "PREF:"
NOT_OWNED = "present in OPERA already (entered by staff); not owned by crmbridge"
AREAS = ("CheckIn", "CheckOut", "Reservation", "Billing", "InHouse")  # OHIP alertAreaType


class AlertPusher:
    def __init__(self, ctx: SourceContext, client: OperaClient) -> None:
        if ctx.ledger is None:
            raise RuntimeError("pushing alerts to OPERA needs a store-backed source (its push ledger)")
        self.ctx, self.client, self.ledger = ctx, client, ctx.ledger
        self.cfg = ctx.settings

    def push(self, alerts: list[Alert]) -> list[PushResult]:
        results = []
        for alert in alerts:
            fp = self.ledger.fingerprint(alert).hex()[:16]
            try:
                if alert.action == "retire":
                    results.append(self._retire(alert, fp))
                elif alert.target == "reservation":
                    results.append(self._reservation_alert(alert, fp))
                elif alert.target == "profile" and alert.code.startswith(PREFERENCE_PREFIX):
                    results.append(self._preference(alert, fp))
                elif alert.target == "profile":
                    results.append(self._profile_note(alert, fp))
                else:
                    results.append(PushResult(alert.pms_id, fp, "failed", f"unknown target {alert.target!r}"))
            except (OperaError, ValueError) as exc:
                self.ctx.log.warning(
                    "push of %s/%s (%s) failed: %s", alert.target, alert.pms_id, alert.rule, exc
                )
                results.append(PushResult(alert.pms_id, fp, "failed", str(exc)[:500]))
        return results

    # -- the shared ledger protocol ---------------------------------------------------------
    def _deliver(
        self,
        alert: Alert,
        fp: str,
        send: Callable[[str | None], None],
        find: Callable[[], str | None],
    ) -> PushResult:
        """Send unless the ledger or a read-back shows OPERA already has this content."""
        ledger: PushLedger = self.ledger
        entry = ledger.get(alert.target, alert.pms_id, alert.rule)
        mine = ledger.fingerprint(alert)
        if entry is not None and entry.fingerprint == mine and entry.status == SENT:
            return PushResult(alert.pms_id, fp, "unchanged")
        old_id = entry.external_id if entry is not None and entry.status in (SENT, SENDING) else None
        if entry is not None and entry.status == SENDING:
            # An earlier push did not finish: OPERA may hold it already.
            found = find()
            if found is not None:
                ledger.record(alert, SENT, external_id=found, detail="confirmed by read-back")
                return PushResult(alert.pms_id, fp, "created", "confirmed by read-back")
        ledger.record(alert, SENDING, external_id=old_id)
        for attempt in (1, 2):
            uncertain = False
            try:
                send(old_id)
            except UncertainOutcome as exc:
                uncertain = True
                self.ctx.log.warning("push of %s/%s: %s; reading back", alert.target, alert.pms_id, exc)
            found = find()
            if found is not None:
                ledger.record(alert, SENT, external_id=found)
                return PushResult(alert.pms_id, fp, "replaced" if old_id else "created")
            if not uncertain:
                # OPERA said yes but does not show it (it may not return what it stored).
                ledger.record(alert, SENT, external_id=old_id, detail="accepted; not visible on read-back")
                return PushResult(
                    alert.pms_id, fp, "replaced" if old_id else "created", "not visible on read-back"
                )
            if attempt == 2:
                break
        return PushResult(alert.pms_id, fp, "failed", "outcome unknown; verified again on the next push")

    # -- reservation alerts -----------------------------------------------------------------
    def _reservation_alert(self, alert: Alert, fp: str) -> PushResult:
        hotel, code = self.cfg.hotel_id, self.cfg.alert_code
        # A rule that names an area gets it; otherwise the source's configured `alert_area`.
        area = alert.area if "area" in alert.model_fields_set else self.cfg.alert_area
        if area not in AREAS:
            raise ValueError(f"alert area {area!r} is not one of {', '.join(AREAS)}")

        def send(alert_id: str | None) -> None:
            body = alert_body(alert, hotel=hotel, code=code, area=area, alert_id=alert_id)
            try:
                self.client.call(
                    "postBulkReservationAlerts",
                    "POST",
                    f"/rsv/v1/hotels/{hotel}/reservations/alerts",
                    body=body,
                )
            except OperaApiError as exc:
                if exc.status != 404 or alert_id is None:
                    raise
                # The alert we meant to replace is gone (deleted at the desk): create anew.
                body = alert_body(alert, hotel=hotel, code=code, area=area, alert_id=None)
                self.client.call(
                    "postBulkReservationAlerts",
                    "POST",
                    f"/rsv/v1/hotels/{hotel}/reservations/alerts",
                    body=body,
                )

        def find() -> str | None:
            for a in self.alert_notices(alert.pms_id, area):
                if a.get("code") == code and a.get("description") == alert.text and a.get("id"):
                    return str(a["id"])
            return None

        return self._deliver(alert, fp, send, find)

    def _retire(self, alert: Alert, fp: str) -> PushResult:
        """Withdraw what a slot holds. OHIP has no delete for reservation alerts (only the
        bulk create-or-update), so the alert is updated in place: off the check-in screen, its
        text saying it was withdrawn. Profile items go through `_retire_profile_item`."""
        entry = self.ledger.get(alert.target, alert.pms_id, alert.rule)
        if entry is None or entry.status == "retired":
            return PushResult(alert.pms_id, fp, "unchanged")
        if alert.target == "profile":
            return self._retire_profile_item(alert, fp, entry.external_id)
        if entry.external_id:
            hotel, area = self.cfg.hotel_id, self.cfg.alert_area
            withdrawn = alert.model_copy(update={"text": WITHDRAWN})
            body = alert_body(
                withdrawn, hotel=hotel, code=self.cfg.alert_code, area=area, alert_id=entry.external_id
            )
            body["reservations"][0]["alert"][0]["screenNotification"] = False
            try:
                self.client.call(
                    "postBulkReservationAlerts",
                    "POST",
                    f"/rsv/v1/hotels/{hotel}/reservations/alerts",
                    body=body,
                )
            except OperaApiError as exc:
                if exc.status != 404:  # gone already (deleted at the desk): nothing to withdraw
                    raise
        self.ledger.retire(alert.target, alert.pms_id, alert.rule)
        return PushResult(alert.pms_id, fp, "retired")

    def _retire_profile_item(self, alert: Alert, fp: str, ext: str | None) -> PushResult:
        """A crmbridge preference is deleted (`deletePreference`); a crmbridge note, which OHIP
        cannot delete through putProfile, is reworded as withdrawn. Items crmbridge does not
        own (no id in the ledger: entered by staff) are left as they are."""
        hotel = self.cfg.hotel_id
        try:
            if ext and ext.startswith(OWNED_PREFERENCE):
                group, code = ext.removeprefix(OWNED_PREFERENCE).split(":", 1)
                self.client.call(
                    "deletePreference",
                    "DELETE",
                    f"/crm/v1/profiles/{alert.pms_id}/hotels/{hotel}/preferenceType/{group}/preferences/{code}",
                )
            elif ext:
                withdrawn = alert.model_copy(update={"text": WITHDRAWN})
                body = profile_comment_body(withdrawn, hotel=hotel, comment_id=ext)
                self.client.call(
                    "putProfile", "PUT", f"/crm/v1/profiles/{alert.pms_id}", body=body, idempotent=False
                )
        except OperaApiError as exc:
            if exc.status != 404:  # removed at the desk already
                raise
        self.ledger.retire(alert.target, alert.pms_id, alert.rule)
        return PushResult(alert.pms_id, fp, "retired")

    def alert_notices(self, reservation: str, area: str | None = None) -> list[dict[str, Any]]:
        params = {"alertArea": area} if area else None
        body = self.client.get_json(
            "getAlertNotices", f"/rsv/v1/hotels/{self.cfg.hotel_id}/reservations/{reservation}/alerts", params
        )
        return [a for a in body.get("alerts") or () if isinstance(a, dict)]

    # -- profile notes and preferences ------------------------------------------------------
    def _profile(self, pid: str, what: str) -> dict[str, Any]:
        return self.client.get_json(
            "getProfile",
            f"/crm/v1/profiles/{pid}",
            {"fetchInstructions": [what], "hotelId": self.cfg.hotel_id},
        )

    def _profile_note(self, alert: Alert, fp: str) -> PushResult:
        title = profile_comment_body(alert, hotel=self.cfg.hotel_id, comment_id=None)["profileDetails"][
            "comments"
        ]["commentInfo"][0]["comment"]["commentTitle"]

        def send(comment_id: str | None) -> None:
            body = profile_comment_body(alert, hotel=self.cfg.hotel_id, comment_id=comment_id)
            self.client.call(
                "putProfile", "PUT", f"/crm/v1/profiles/{alert.pms_id}", body=body, idempotent=False
            )

        def find() -> str | None:
            det = self._profile(alert.pms_id, "Comment").get("profileDetails") or {}
            for c in (det.get("comments") or {}).get("commentInfo") or ():
                com = c.get("comment") or {}
                if com.get("commentTitle") == title and (com.get("text") or {}).get("value") == alert.text:
                    return str(c.get("id") or "")
            return None

        return self._deliver(alert, fp, send, find)

    def _preference(self, alert: Alert, fp: str) -> PushResult:
        try:
            _, group, code = alert.code.split(":", 2)
        except ValueError:
            raise ValueError("a preference alert's code must be PREF:<group>:<code>") from None

        def present() -> bool:
            det = self._profile(alert.pms_id, "Preference").get("profileDetails") or {}
            return any(
                g.get("preferenceType") == group and p.get("preferenceCode") == code
                for g in (det.get("preferenceCollection") or {}).get("preferenceType") or ()
                for p in g.get("preference") or ()
            )

        entry = self.ledger.get(alert.target, alert.pms_id, alert.rule)
        if entry is None and present():
            # The desk entered it before crmbridge learnt it: never ours to change or remove.
            self.ledger.record(alert, SENT, external_id=None, detail=NOT_OWNED)
            return PushResult(alert.pms_id, fp, "unchanged", NOT_OWNED)
        if entry is not None and entry.status == SENT and entry.external_id is None:
            return PushResult(alert.pms_id, fp, "unchanged", NOT_OWNED)

        def send(_: str | None) -> None:
            body = preference_body(alert, hotel=self.cfg.hotel_id)
            self.client.call(
                "postPreference", "POST", f"/crm/v1/profiles/{alert.pms_id}/preferences", body=body
            )

        def find() -> str | None:
            det = self._profile(alert.pms_id, "Preference").get("profileDetails") or {}
            for g in (det.get("preferenceCollection") or {}).get("preferenceType") or ():
                if g.get("preferenceType") == group:
                    for p in g.get("preference") or ():
                        if p.get("preferenceCode") == code:
                            return f"{OWNED_PREFERENCE}{group}:{code}"
            return None

        return self._deliver(alert, fp, send, find)
