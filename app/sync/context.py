"""One run at work: what every body of the engine is given (see `app.sync.kinds`)."""
from __future__ import annotations

from functools import cached_property

from ..google import client_for
from ..google.client import CalendarClient
from ..models import CalendarConnection, SyncRun
from .settings import SyncSettings


class Sync:
    def __init__(self, connection: CalendarConnection, run: SyncRun, settings: SyncSettings) -> None:
        self.connection, self.run, self.settings = connection, run, settings

    @cached_property
    def client(self) -> CalendarClient:
        """Built at the body's first call to Google, inside the run: a failure to build it (Google's sign-in
        settings unreachable, a token that cannot be read) ends the run truthfully like any other."""
        return client_for(self.connection)
