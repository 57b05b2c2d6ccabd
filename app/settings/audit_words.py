"""The audit trail in plain words: the "Recent changes" table shows no JSON, ids or internal names."""
from __future__ import annotations

from ..models import ConnectionKind, ConnectionStatus, Role

ACTION_LABELS = {
    "settings.profile": "Company profile changed",
    "settings.integrations_visibility": "Integrations visibility changed",
    "settings.google_meet": "Google Meet setting changed",
    "settings.disconnect_all": "Disconnected all connections of a role",
    "connection.disconnect": "Disconnected a connection",
}
FIELD_LABELS = {
    "name": "Name", "brand_color": "Brand colour", "logo": "Logo", "hidden_roles": "Integrations hidden from",
    "google_meet": "Google Meet on appointments", "connections": "Connections", "disconnected": "Disconnected",
    "failed": "Could not disconnect", "user": "User", "role": "Role", "kind": "Sync", "google_email": "Google account",
    "status": "Status", "calendar": "Calendar", "portal_url": "Portal address",
}
ENUM_LABELS = {
    **{role.value: role.label for role in Role},
    **{kind.value: f"{kind.label} Sync" for kind in ConnectionKind},
    **{status.value: status.label for status in ConnectionStatus},
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.rsplit(".", 1)[-1].replace("_", " ").capitalize())


def target_label(target: str | None) -> str:
    """"role:client" → "Client", "user:ann@x" → "ann@x"; the company itself needs no mention."""
    kind, _, value = (target or "").partition(":")
    if kind == "role":
        return ENUM_LABELS.get(value, value)
    if kind == "user":
        return value
    return ""


def plain_value(key: str, value) -> str:
    if value is None or value == [] or value == "":
        return "nobody" if key == "hidden_roles" else "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):  # one connection's summary
        parts = [value.get("user"), ENUM_LABELS.get(value.get("kind", ""), ""), value.get("google_email")]
        return " · ".join(str(p) for p in parts if p)
    if isinstance(value, list):
        return ", ".join(plain_value(key, v) for v in value)
    return ENUM_LABELS.get(value, str(value)) if key in ("hidden_roles", "role", "kind", "status") else str(value)


def audit_lines(values: dict | None) -> list[tuple[str, str]]:
    """(label, words) per recorded field; [] for nothing recorded."""
    if not isinstance(values, dict):
        return []
    return [(FIELD_LABELS.get(key, key.replace("_", " ").capitalize()), plain_value(key, value))
            for key, value in values.items()]
