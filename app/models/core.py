"""Tenants, people and the audit trail."""
from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db


def utcnow() -> datetime:
    """Naive UTC: every stored datetime is UTC without tzinfo, on SQLite and PostgreSQL alike."""
    return datetime.now(UTC).replace(tzinfo=None)


class Role(str, enum.Enum):
    ADMIN = "admin"
    MANAGER = "manager"
    STAFF = "staff"
    PROSPECT = "prospect"
    CLIENT = "client"

    @property
    def is_staff(self) -> bool:
        return self in (Role.ADMIN, Role.MANAGER, Role.STAFF)

    @property
    def label(self) -> str:
        return self.value.capitalize()


STAFF_ROLES = (Role.MANAGER, Role.STAFF)
CONTACT_ROLES = (Role.PROSPECT, Role.CLIENT)


class Company(db.Model):
    # One company per portal address: the host a request arrives on selects the company (app.tenancy).
    __table_args__ = (sa.UniqueConstraint("portal_url", name="uq_company_portal_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    brand_color: Mapped[str] = mapped_column(sa.String(7), default="#2563eb")
    # Deferred: the header of every page asks only whether there is a logo (`logo_mimetype`).
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    logo_mimetype: Mapped[str | None] = mapped_column(sa.String(40))
    # Where this company's portal is served (scheme and host, e.g. https://portal.acme.example); None: the
    # shared PORTAL_BASE_URL. The OAuth broker only ever returns users here.
    portal_url: Mapped[str | None] = mapped_column(sa.String(255))
    # Optional: the company's own Google OAuth client, for its own name on the consent screen
    # (app/google/company_client.py); None: the shared "My Portal App". The secret is Fernet-encrypted.
    google_client_id: Mapped[str | None] = mapped_column(sa.String(255))
    google_client_secret_enc: Mapped[str | None] = mapped_column(sa.Text)
    # Admin-editable runtime settings, e.g. {"integrations_hidden_roles": ["client"]}.
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="company")

    HIDDEN_ROLES_KEY = "integrations_hidden_roles"

    def setting(self, key: str, default=None):
        return (self.settings or {}).get(key, default)

    @property
    def integrations_hidden_roles(self) -> list[str]:
        return list(self.setting(self.HIDDEN_ROLES_KEY, []))

    @integrations_hidden_roles.setter
    def integrations_hidden_roles(self, roles: list[str]) -> None:
        # A new dict, so SQLAlchemy sees the JSON column change (it does not track in-place edits).
        self.settings = {**(self.settings or {}), self.HIDDEN_ROLES_KEY: sorted(roles)}

    GOOGLE_MEET_KEY = "google_meet"

    @property
    def google_meet(self) -> bool:
        """Appointments pushed through a 2-way connection get a Google Meet unless the admin turned it off."""
        return bool(self.setting(self.GOOGLE_MEET_KEY, True))

    @google_meet.setter
    def google_meet(self, enabled: bool) -> None:
        self.settings = {**(self.settings or {}), self.GOOGLE_MEET_KEY: bool(enabled)}

    def integrations_visible_to(self, role: Role) -> bool:
        return role is Role.ADMIN or role.value not in self.integrations_hidden_roles


class User(UserMixin, db.Model):
    __table_args__ = (sa.UniqueConstraint("company_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(sa.Enum(Role, native_enum=False, length=20))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Mail preferences (Your account): a message when their sync needs them; admins, a daily summary.
    email_notices: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    daily_digest: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    digest_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))  # of the last summary sent

    company: Mapped[Company] = relationship(back_populates="users")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class UserSession(db.Model):
    """One signed-in browser: the cookie carries only `token`. A session is valid while its row says so, on the
    host it was opened on, so signing out (or out everywhere, or a password change) ends it on the server, and
    a cookie replayed after that, or on another company's host, signs nobody in."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class AuditLog(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(80))
    target: Mapped[str | None] = mapped_column(sa.String(120))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()
