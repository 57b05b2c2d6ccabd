"""The flyout menu: the one place that knows which entries a role sees."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for

from .models import User


@dataclass(frozen=True)
class MenuEntry:
    label: str
    endpoint: str
    icon: str

    @property
    def url(self) -> str:
        return url_for(self.endpoint)


ENTRIES = (
    MenuEntry("Dashboard", "main.dashboard", "▦"),
    MenuEntry("Calendar", "calendar.index", "▤"),
    MenuEntry("Tasks", "portal.task_list", "✔"),
    MenuEntry("Events", "portal.event_list", "★"),
    MenuEntry("Appointments", "portal.appointment_list", "☎"),
    MenuEntry("Integrations", "integrations.index", "⇄"),
    MenuEntry("Company Settings", "settings.index", "⚙"),
)


def can_see(user: User, endpoint: str) -> bool:
    if endpoint == "settings.index":
        return user.is_admin
    if endpoint == "integrations.index":
        return user.company.integrations_visible_to(user.role)
    return True


def menu_for(user: User) -> list[MenuEntry]:
    if not user.is_authenticated:
        return []
    return [e for e in ENTRIES if e.endpoint in current_app.view_functions and can_see(user, e.endpoint)]
