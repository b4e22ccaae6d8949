"""The staff API: JSON over HTTP for hotel staff tools (and the web console), by bearer token.
Every read goes through `crmbridge.access.service.Access`."""

from .app import build_app
from .server import StaffApiServer

__all__ = ["StaffApiServer", "build_app"]
