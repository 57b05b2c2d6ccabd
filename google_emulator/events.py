"""The Calendar service: one object for the REST layer, batch and the calendar UI.

Its parts live along their seams: `calendars` (calendars and the calendar list), `instances`
(recurring series), `event_writes` (get/insert/patch/update/delete), `listing` (list, paging, sync
tokens); Google's field rules are plain functions in `event_rules` and `conference`.
"""
from __future__ import annotations

from .calendars import CalendarsMixin
from .event_writes import EventWritesMixin
from .listing import EventListingMixin


class CalendarService(CalendarsMixin, EventWritesMixin, EventListingMixin):
    """Calendar and event operations on a Store, for one emulator instance."""
