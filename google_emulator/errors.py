"""Google's JSON error envelope, raised as exceptions from anywhere in the API layer.

Every Calendar API failure goes through ApiError so the body is always the
shape the client libraries parse (`error.errors[0].reason`, `error.message`).
"""
from __future__ import annotations

from typing import Any

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "FAILED_PRECONDITION",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error that renders as Google's `{"error": {...}}` envelope."""

    def __init__(self, code: int, reason: str, message: str, domain: str = "global",
                 location: str | None = None, location_type: str | None = None,
                 headers: dict | None = None, error_info: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.headers = headers or {}
        self.error_info = error_info

    def body(self, method_id: str | None = None) -> dict:
        err = {"domain": self.domain, "reason": self.reason, "message": self.message}
        if self.location:
            err["locationType"] = self.location_type or "parameter"
            err["location"] = self.location
        out = {"errors": [err], "code": self.code, "message": self.message}
        if self.code in STATUS_NAMES:
            out["status"] = STATUS_NAMES[self.code]
        if self.error_info:
            out["details"] = [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": self.error_info,
                "domain": "googleapis.com",
                "metadata": {"service": "calendar-json.googleapis.com",
                             "method": "calendar.v3." + (method_id or "").replace("calendar.", "", 1)},
            }]
        return {"error": out}


def bad_request(message: str = "Bad Request", reason: str = "badRequest", **kw: Any) -> ApiError:
    return ApiError(400, reason, message, **kw)


def invalid(message: str, **kw: Any) -> ApiError:
    return ApiError(400, "invalid", message, **kw)


def required(message: str, **kw: Any) -> ApiError:
    return ApiError(400, "required", message, **kw)


def not_found() -> ApiError:
    return ApiError(404, "notFound", "Not Found")


def time_range_empty() -> ApiError:
    return ApiError(400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar",
                    location="timeMax")


def auth_error() -> ApiError:
    return ApiError(401, "authError", "Invalid Credentials", location="Authorization",
                    location_type="header", headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})


def login_required() -> ApiError:
    return ApiError(401, "required", "Login Required.", location="Authorization", location_type="header",
                    headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})


def insufficient_scopes() -> ApiError:
    return ApiError(403, "insufficientPermissions", "Request had insufficient authentication scopes.",
                    error_info="ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                                 'error="insufficient_scope"'})


def writer_required() -> ApiError:
    return ApiError(403, "requiredAccessLevel", "You need to have writer access to this calendar.",
                    domain="calendar")


def full_sync_required() -> ApiError:
    return ApiError(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.",
                    domain="calendar", location="syncToken")


def deleted() -> ApiError:
    return ApiError(410, "deleted", "Resource has been deleted")


def duplicate() -> ApiError:
    return ApiError(409, "duplicate", "The requested identifier already exists.")


def condition_not_met() -> ApiError:
    return ApiError(412, "conditionNotMet", "Precondition Failed", location="If-Match", location_type="header")
