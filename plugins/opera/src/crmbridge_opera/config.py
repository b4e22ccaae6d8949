"""The `[sources.NAME]` table of an OPERA Cloud source (`type = "opera"`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from crmbridge.api import AdapterConfig

AlertArea = Literal["CheckIn", "CheckOut", "Reservation", "Billing", "InHouse"]


class OperaConfig(AdapterConfig):
    gateway_url: str = Field(description="the hotel's OHIP gateway, e.g. https://xxx-ohip.oraclecloud.com")
    app_key: SecretStr = Field(description="the application key (a UUID) registered in OHIP")
    client_id: str = Field(description="OAuth client id of the integration")
    client_secret: SecretStr = Field(description="OAuth client secret")
    hotel_id: str = Field(min_length=1, max_length=20, description="OPERA hotel code, e.g. SHA01")
    external_system: str = Field(
        min_length=1, max_length=40, description="external system code the business events are set up for"
    )
    enterprise_id: str | None = Field(default=None, pattern=r"^[A-Z0-9]{1,8}$")
    username: str | None = Field(default=None, description="integration user (password grant)")
    password: SecretStr | None = None
    backfill_days: int = Field(
        default=30, ge=0, le=3650, description="days of past arrivals read on first sync"
    )
    lookahead_days: int = Field(default=14, ge=0, le=365, description="future arrivals read and re-read")
    page_size: int = Field(default=100, ge=1, le=200)
    alert_code: str = Field(default="CRM", min_length=1, max_length=20)
    alert_area: AlertArea = "CheckIn"
    timeout_s: float = Field(default=30.0, gt=0, le=300)
    max_attempts: int = Field(default=5, ge=1, le=20)
    # Below OHIP's 50 requests/second gateway throttle; partners also pay per call.
    max_requests_per_second: float = Field(default=20.0, gt=0, le=50)
    timezone: str | None = Field(default=None, description="the hotel's zone; default the top-level one")

    @model_validator(mode="after")
    def _grant(self) -> OperaConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both `username` and `password` (password grant) or neither")
        if not self.gateway_url.startswith(("https://", "http://")):
            raise ValueError("`gateway_url` must start with https://")
        return self

    @property
    def base_url(self) -> str:
        return self.gateway_url.rstrip("/")
