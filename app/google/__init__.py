"""The Google boundary: the only package that knows Google's URLs and client libraries.

The sync engine and the views speak to Google through `CalendarClient` and the OAuth
helpers here, and see only our own exception types.
"""
from .client import CalendarClient, client_for
from .errors import (
    AuthRevoked,
    GoogleDown,
    GoogleError,
    PermanentError,
    RateLimited,
    SyncTokenExpired,
    TryLater,
    UsageLimited,
)
from .oauth import (
    APP_CREATED_SCOPE,
    CALENDARLIST_SCOPE,
    EVENTS_SCOPE,
    FREEBUSY_SCOPE,
    REQUIRED_SCOPES,
    SCOPE_LABELS,
    missing_scopes,
    revoke_token,
)

__all__ = [
    "APP_CREATED_SCOPE", "AuthRevoked", "CALENDARLIST_SCOPE", "CalendarClient", "EVENTS_SCOPE", "FREEBUSY_SCOPE",
    "GoogleDown", "GoogleError",
    "PermanentError", "REQUIRED_SCOPES", "RateLimited", "SCOPE_LABELS", "SyncTokenExpired", "TryLater",
    "UsageLimited",
    "client_for", "missing_scopes", "revoke_token",
]
