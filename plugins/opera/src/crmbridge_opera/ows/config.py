"""The `[sources.NAME]` table of an OPERA 5 source (`type = "opera-ows"`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator

from crmbridge.adapters.base import AdapterConfig

SERVICES = ("Name", "Reservation", "ResvAdvanced", "Information")


class OwsConfig(AdapterConfig):
    base_url: str = Field(description="the hotel's OWS root, e.g. https://opera5.hotel.local/OWS_WS_51")
    wsdl_dir: str | None = Field(
        default=None,
        description="a folder with Name.wsdl, Reservation.wsdl, ResvAdvanced.wsdl, Information.wsdl; "
        "default: each service's own `?wsdl`",
    )
    username: str = Field(min_length=1, description="OWS user (OGHeader UserCredentials)")
    password: SecretStr
    domain: str = Field(default="", description="OGHeader UserCredentials Domain, if the site uses one")
    origin_entity: str = "CRMBRIDGE"
    origin_system: str = "WEB"
    destination_entity: str = Field(min_length=1, description="the hotel's entity id, often its code")
    destination_system: str = "PMS"
    hotel_code: str = Field(min_length=1, max_length=20, description="OPERA resort code, e.g. SHA01")
    chain_code: str = Field(default="", max_length=20)
    backfill_days: int = Field(default=30, ge=0, le=3650)
    lookahead_days: int = Field(default=14, ge=0, le=365)
    max_stay_days: int = Field(
        default=30, ge=1, le=365, description="longest stay re-read for stays and folios"
    )
    window_days: int = Field(default=7, ge=1, le=31, description="days per FutureBookingSummary call")
    alert_code: str = Field(default="CRM", min_length=1, max_length=20)
    alert_area: str = Field(default="CHECKIN", min_length=1, max_length=20)
    comment_type: str = Field(default="RESERVATION", max_length=20, description="profile note type")
    timezone: str | None = Field(default=None, description="the hotel's zone; default the top-level one")
    profile_refresh_minutes: int = Field(
        default=240, ge=0, le=10080, description="re-read arriving guests at most this often"
    )
    timeout_s: float = Field(default=30.0, gt=0, le=300)
    max_attempts: int = Field(default=5, ge=1, le=20)
    max_requests_per_second: float = Field(default=10.0, gt=0, le=100)

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("https://", "http://")):
            raise ValueError("`base_url` must start with https://")
        return v.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Asia/Shanghai") from None
        return v

    def service_url(self, service: str) -> str:
        return f"{self.base_url}/{service}.asmx"
