"""What the sync engine is told by its caller, instead of reading the app's configuration itself.

The engine is plain functions over the database and a `CalendarClient`; a job builds one `SyncSettings` from
the app's config when it starts (`SyncSettings.from_config(app.config)`) and passes it down, so the
engine has no request or app globals and a test or a bench can hand it any settings it likes.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

NOTIFICATIONS_PATH = "/broker/google/notifications"  # the broker's webhook, under WEBHOOK_BASE_URL


@dataclass(frozen=True)
class SyncSettings:
    webhook_url: str  # where Google sends a channel's notifications
    watch_ttl_seconds: int  # how long a watch channel is asked to live
    poll_healthy: timedelta  # the safety-net poll while a channel is trusted
    poll_unhealthy: timedelta  # ... and while it is not
    watch_retry: timedelta  # a refused watch is asked for again this much later
    use_limit_pause: timedelta  # Google's use limit: writes wait this long
    push_daily_ceiling: int  # events Push Existing Data creates per Google user per day
    slice_items: int  # items a slice of bulk work handles at most (`app.sync.bulk`)

    @classmethod
    def from_config(cls, config: Mapping) -> SyncSettings:
        return cls(
            webhook_url=config["WEBHOOK_BASE_URL"].rstrip("/") + NOTIFICATIONS_PATH,
            watch_ttl_seconds=int(config["WATCH_TTL_SECONDS"]),
            poll_healthy=timedelta(hours=config["POLL_HEALTHY_HOURS"]),
            poll_unhealthy=timedelta(minutes=config["POLL_UNHEALTHY_MINUTES"]),
            watch_retry=timedelta(hours=config["WATCH_RETRY_HOURS"]),
            use_limit_pause=timedelta(hours=config["GOOGLE_USE_LIMIT_PAUSE_HOURS"]),
            push_daily_ceiling=int(config["PUSH_DAILY_CEILING"]),
            slice_items=int(config["BULK_SLICE_ITEMS"]),
        )
