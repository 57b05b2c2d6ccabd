"""Token encryption at rest (Fernet, key from config)."""
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    return Fernet(current_app.config["TOKEN_ENCRYPTION_KEY"])


def encrypt(value: str | None) -> str | None:
    return None if value is None else _fernet().encrypt(value.encode()).decode()


def decrypt(value: str | None, max_age: int | None = None) -> str | None:
    """None for a missing, forged or (with `max_age` seconds) too old value."""
    if value is None:
        return None
    try:
        return _fernet().decrypt(value.encode(), ttl=max_age).decode()
    except InvalidToken:
        return None
