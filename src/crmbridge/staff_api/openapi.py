"""The OpenAPI 3.1 document of the staff API (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _resp(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or _ERROR}}}


_ERRORS = {
    "401": _resp("no token, or a token that is unknown or revoked"),
    "403": _resp("the staff member's role may not do this"),
}
_GUEST_ID = {"name": "guest_id", "in": "path", "required": True, "schema": {"type": "string"}}


def document() -> dict[str, Any]:
    obj = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "crmbridge staff API",
            "version": "1",
            "description": "Guest profiles for hotel staff, masked by role; every read is audited.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "detail"],
                    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
                },
                "GuestSummary": {
                    "type": "object",
                    "required": ["guest_id"],
                    "properties": {
                        "guest_id": {"type": "string"},
                        "name": {"type": "string"},
                        "latin_name": {"type": "string"},
                        "phones": {"type": "array", "items": {"type": "string"}},
                        "emails": {"type": "array", "items": {"type": "string"}},
                        "reservations": {"type": "integer"},
                        "records": {"type": "array", "items": obj},
                    },
                },
                "Profile": {
                    "type": "object",
                    "required": ["guest_id", "records"],
                    "additionalProperties": True,
                },
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/me": {
                "get": {
                    "summary": "who the token belongs to, and their role",
                    "responses": {"200": _resp("the staff member", obj), **_ERRORS},
                }
            },
            "/api/v1/guests": {
                "get": {
                    "summary": "search guests by name (any script), phone, e-mail, reservation "
                    "or confirmation number",
                    "parameters": [
                        {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": _resp(
                            "matching guests, masked",
                            {"type": "array", "items": {"$ref": "#/components/schemas/GuestSummary"}},
                        ),
                        "400": _resp("the query is too short"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/guests/{guest_id}": {
                "get": {
                    "summary": "one guest's profile as the role may see it",
                    "parameters": [
                        _GUEST_ID,
                        {"name": "unmask", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "reason", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": _resp("the profile", {"$ref": "#/components/schemas/Profile"}),
                        "400": _resp("unmask without a reason"),
                        "404": _resp("no such guest (or not visible to the role)"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/guests/{guest_id}/consents": {
                "post": {
                    "summary": "record a consent or its withdrawal for one purpose",
                    "parameters": [_GUEST_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["purpose", "granted", "wording_version"],
                                    "properties": {
                                        "purpose": {"enum": ["marketing", "profiling", "cross_border"]},
                                        "granted": {"type": "boolean"},
                                        "wording_version": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _resp("recorded", obj),
                        "400": _resp("bad purpose or no wording version"),
                        "404": _resp("no such guest"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/reviews": {
                "get": {
                    "summary": "pairs of guests waiting for a person to decide",
                    "responses": {
                        "200": _resp("the review queue", {"type": "array", "items": obj}),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/arrivals": {
                "get": {
                    "summary": "arrivals on a day (default tomorrow) with their alerts",
                    "parameters": [
                        {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}}
                    ],
                    "responses": {
                        "200": _resp("arrivals", {"type": "array", "items": obj}),
                        "400": _resp("a malformed date"),
                        **_ERRORS,
                    },
                }
            },
        },
    }
