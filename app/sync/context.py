"""One run at work: what every body of the engine is given (see `app.sync.kinds`)."""
from __future__ import annotations

from dataclasses import dataclass

from ..google.client import CalendarClient
from ..models import CalendarConnection, SyncRun
from .settings import SyncSettings


@dataclass
class Sync:
    client: CalendarClient
    connection: CalendarConnection
    run: SyncRun
    settings: SyncSettings
