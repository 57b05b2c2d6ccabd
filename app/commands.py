"""CLI commands: `flask seed-demo`."""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from .crypto import encrypt
from .extensions import db
from .google import REQUIRED_SCOPES
from .models import (
    Appointment,
    CalendarConnection,
    Company,
    ConnectionKind,
    ConnectionStatus,
    Event,
    Role,
    Task,
    User,
    utcnow,
)
from .timefmt import to_utc

DEMO_PASSWORD = "demo-password"
DEMO_TZ = "Europe/London"


@dataclass(frozen=True)
class DemoCompany:
    """One demo tenant on its own host name (`<host>.localhost`: browsers resolve it to this machine)."""

    slug: str
    name: str
    brand_color: str
    host: str
    people: list[tuple[str, str, Role]]


DEMO_COMPANIES = [
    DemoCompany("demo", "Acme Advisory", "#0f766e", "acme", [
        ("admin@demo.test", "Ada Admin", Role.ADMIN),
        ("manager@demo.test", "Max Manager", Role.MANAGER),
        ("staff@demo.test", "Sam Staff", Role.STAFF),
        ("prospect@demo.test", "Pat Prospect", Role.PROSPECT),
        ("client@demo.test", "Alex Client", Role.CLIENT),
    ]),
    DemoCompany("globex", "Globex Partners", "#7c3aed", "globex", [
        ("admin@globex.test", "Gina Admin", Role.ADMIN),
        ("manager@globex.test", "Hank Manager", Role.MANAGER),
        ("staff@globex.test", "Ivy Staff", Role.STAFF),
        ("prospect@globex.test", "Jon Prospect", Role.PROSPECT),
        ("client@globex.test", "Kim Client", Role.CLIENT),
    ]),
]


def ring_logo_png(color: str, size: int = 64) -> bytes:
    """A brand-coloured ring on white, as a PNG written with zlib alone (no imaging library for a demo)."""
    rgb, centre = bytes.fromhex(color.lstrip("#")), (size - 1) / 2
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # PNG filter type "none"
        for x in range(size):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5 / centre
            row += rgb if 0.55 <= distance <= 0.95 else b"\xff\xff\xff"
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


def build_demo_items(company: Company, users: dict[Role, User]) -> list:
    """About 30 items over the coming weeks: timed, all-day and multi-day."""
    today = utcnow().date()
    staff, manager, client, prospect = users[Role.STAFF], users[Role.MANAGER], users[Role.CLIENT], users[Role.PROSPECT]
    admin = users[Role.ADMIN]

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        return to_utc(datetime.combine(today + timedelta(days=days), time(hour, minute)), DEMO_TZ)

    items: list = []
    task_titles = ["Send onboarding pack", "Review tax documents", "Sign engagement letter", "Upload bank statements",
                   "Prepare quarterly report", "Call back about invoice", "Check insurance renewal",
                   "Book annual review", "Collect ID documents", "Update contact details"]
    for n, title in enumerate(task_titles):
        task = Task(company=company, title=title, notes=f"Demo task {n + 1}.", done=n == 9,
                    assignees=[client if n % 2 == 0 else prospect, staff])
        if n % 3 == 0:
            task.due_at = at(n * 2 + 1, 9 + n % 6, 30)
        else:
            task.due_date = today + timedelta(days=n * 2 + 1)
        items.append(task)

    event_specs = [("Team planning", 1, False, 1), ("Client webinar: year-end tips", 3, False, 1),
                   ("Office closed", 6, True, 1), ("Accounting conference", 9, True, 3),
                   ("Quarterly review", 12, False, 1), ("Open office hours", 15, False, 1),
                   ("Company retreat", 20, True, 2), ("Tax deadline reminder", 24, True, 1),
                   ("Portal training", 27, False, 1), ("Holiday party", 33, False, 1)]
    for n, (title, day, all_day, length) in enumerate(event_specs):
        event = Event(company=company, title=title, description=f"{title} (demo).", location="Main office",
                      all_day=all_day, timezone=DEMO_TZ,
                      attendees=[staff, manager, client] if n % 2 else [staff, admin, prospect])
        if all_day:
            event.start_date = today + timedelta(days=day)
            event.end_date = event.start_date + timedelta(days=length - 1)
        else:
            event.start_at, event.end_at = at(day, 10 + n % 5), at(day, 11 + n % 5, 30)
        items.append(event)

    # The client's own event: theirs to change, in the portal and so in Google too (README, "Try it").
    items.append(Event(company=company, title="Call with my accountant", description="Made by the client (demo).",
                       location="Phone", timezone=DEMO_TZ, created_by_id=client.id, attendees=[client],
                       start_at=at(2, 16), end_at=at(2, 16, 30)))
    for n in range(10):
        contact = client if n % 2 == 0 else prospect
        start = at(n * 3 + 2, 9 + n % 7)
        items.append(Appointment(company=company, title=f"Consultation with {contact.name}", start_at=start,
                                 end_at=start + timedelta(minutes=45), timezone=DEMO_TZ,
                                 staff=staff if n % 3 else manager,
                                 contact=contact, location="Room 2" if n % 2 else "",
                                 meeting_link="" if n % 2 else "https://meet.example.com/demo-" + str(n)))
    return items


@click.command("seed-demo")
@click.option("--port", default=5000, show_default=True, help="The port the portal is served on.")
@with_appcontext
def seed_demo(port: int) -> None:
    """Create two demo companies on their own host names, one user per role and ~30 items each (safe to
    run again: existing data is kept)."""
    for demo in DEMO_COMPANIES:
        company, created = seed_company(demo, f"http://{demo.host}.localhost:{port}")
        db.session.commit()
        click.echo(("Created" if created else "Already there:") + f" demo company '{company.name}' at "
                   f"{company.portal_url} (code: {company.slug}); logins, password for all: {DEMO_PASSWORD}")
        for email, name, role in demo.people:
            click.echo(f"  {role.value:<9} {email:<22} {name}")


def seed_company(demo: DemoCompany, portal_url: str) -> tuple[Company, bool]:
    company = db.session.scalar(sa.select(Company).where(Company.slug == demo.slug))
    created = company is None
    if created:
        company = Company(name=demo.name, slug=demo.slug, brand_color=demo.brand_color, settings={})
        db.session.add(company)
    if not company.portal_url:  # a database seeded before companies had their own host names
        company.portal_url = portal_url
    if not company.logo_mimetype:
        company.logo, company.logo_mimetype = ring_logo_png(company.brand_color), "image/png"
    users: dict[Role, User] = {}
    for email, name, role in demo.people:
        user = db.session.scalar(sa.select(User).where(User.company == company, User.email == email))
        if user is None:
            user = User(company=company, email=email, name=name, role=role, timezone=DEMO_TZ)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
        users[role] = user
    if created:
        db.session.flush()  # the people's ids: the client's own event names its maker
        db.session.add_all(build_demo_items(company, users))
    if created and demo is DEMO_COMPANIES[0]:
        # A legacy 1-way connection so the "switch to 2-way" flow can be tried at once.
        db.session.add(CalendarConnection(
            company=company, user=users[Role.STAFF], kind=ConnectionKind.ONE_WAY, status=ConnectionStatus.ACTIVE,
            google_email="sam@example.com", calendar_id="sam@example.com", calendar_summary="sam@example.com",
            granted_scopes=" ".join(REQUIRED_SCOPES),
            refresh_token_enc=encrypt(current_app.config["DEMO_GOOGLE_REFRESH_TOKEN"])))
    return company, created


@click.command("set-google-client")
@click.argument("company_code")
@click.option("--client-id", help="The company's own OAuth client id (registered with the broker's redirect URI).")
@click.option("--client-secret", help="Its secret (asked for when not given; stored encrypted).")
@click.option("--shared", is_flag=True, help='Back to the shared "My Portal App".')
@with_appcontext
def set_google_client(company_code: str, client_id: str | None, client_secret: str | None, shared: bool) -> None:
    """Give a company its own Google OAuth client, or put it back on the shared one.

    Its people's existing grants belong to the old client: they will be asked to reconnect.
    """
    company = db.session.scalar(sa.select(Company).where(Company.slug == company_code.strip().lower()))
    if company is None:
        raise click.UsageError(f"No company with the code {company_code!r}.")
    if shared == bool(client_id):
        raise click.UsageError("Give either --client-id (and its secret) or --shared.")
    if shared:
        company.google_client_id = company.google_client_secret_enc = None
    else:
        company.google_client_id = client_id
        company.google_client_secret_enc = encrypt(client_secret or click.prompt("Client secret", hide_input=True))
    db.session.commit()
    click.echo(f"{company.name} now signs in with " + (f"its own OAuth client {client_id}." if client_id
                                                        else 'the shared "My Portal App".'))
