"""Ports and waiting, for code that starts other processes and waits for them."""
from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

# The emulator is a package of its own (usable without the portal), so the one free_port lives there.
from google_emulator.testing import free_port

__all__ = ["free_port", "port_open", "wait_for_port", "wait_until"]

T = TypeVar("T")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate: Callable[[], T], timeout: float = 20.0, interval: float = 0.1,
               what: str = "condition") -> T:
    """Poll until `predicate()` is truthy (for work done by another process); returns its value.

    Raises AssertionError, so a test that waits in vain fails (not errors) with what it waited for.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    wait_until(lambda: port_open(port), timeout=timeout, interval=0.05, what=f"something listening on port {port}")
