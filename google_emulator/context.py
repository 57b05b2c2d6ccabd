"""The emulator's parts as one object, reachable from any request as `current_emulator()`."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .controls import Controls
from .events import CalendarService
from .notify import Notifier
from .storage import Store


@dataclass
class Emulator:
    store: Store
    service: CalendarService
    controls: Controls
    notifier: Notifier
    base_url: str
    admin_enabled: bool


def current_emulator() -> Emulator:
    return current_app.extensions["google_emulator"]
