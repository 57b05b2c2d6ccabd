"""Local Google: an emulator of Google's OAuth 2.0 endpoints and the Calendar API v3 subset the app uses.

Run it with `python -m google_emulator`; build it in-process with `create_app`; drive it from
tests with `google_emulator.testing.EmulatorServer`.
"""
from .app import create_app

__all__ = ["create_app"]
