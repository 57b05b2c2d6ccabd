"""Company Settings forms: profile (branding), Integrations visibility, connection filters."""
from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, ColorField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from ..branding import colour_problem
from ..extensions import db
from ..models import Company, ConnectionStatus, Role
from ..models.core import CONTACT_ROLES, STAFF_ROLES
from ..tenancy import host_of, portal_url_forms

LOGO_MAX_BYTES = 512 * 1024
HIDEABLE_ROLES = (*STAFF_ROLES, *CONTACT_ROLES)
ROLE_GROUPS = (("staff", "Staff Members", STAFF_ROLES), ("contacts", "Contacts", CONTACT_ROLES))


def sniff_image_type(data: bytes) -> str | None:
    """The image's real MIME type from its first bytes; the browser's claim and the file name are not trusted.

    SVG is deliberately not accepted: it can carry scripts, and the logo is served from our origin.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class LogoFile:
    """Validates an optional upload and leaves its bytes and sniffed type on the field."""

    def __call__(self, form, field) -> None:
        field.image_bytes, field.image_type = None, None
        upload = field.data
        if not upload or not getattr(upload, "filename", None):
            return
        data = upload.read(LOGO_MAX_BYTES + 1)
        if not data:
            raise ValidationError("The logo file is empty.")
        if len(data) > LOGO_MAX_BYTES:
            raise ValidationError(f"The logo is too large: the limit is {LOGO_MAX_BYTES // 1024} KB.")
        image_type = sniff_image_type(data)
        if image_type is None:
            raise ValidationError("The logo must be a PNG, JPEG or WebP image (SVG and other formats are not "
                                  "accepted: an SVG can carry a script).")
        field.image_bytes, field.image_type = data, image_type


def readable_colour(form, field) -> None:
    problem = colour_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class PortalAddress:
    """The company's own portal address: scheme and host only, https in production, one company per host, and
    not an address the platform itself answers on (the shared portal, the broker). Leaves the normal form."""

    def __call__(self, form, field) -> None:
        field.address = None
        text = (field.data or "").strip()
        if not text:
            return
        parts = urlsplit(text if "//" in text else f"https://{text}")
        if parts.username or parts.password or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValidationError("Enter only the address's scheme and host, for example https://portal.example.com "
                                  "(no path, query or user name).")
        if parts.scheme not in ("https", "http") or not parts.hostname or "." not in parts.hostname.strip("."):
            raise ValidationError("Enter a full address, for example https://portal.example.com.")
        if parts.scheme != "https" and current_app.config["REQUIRE_HTTPS_PORTALS"]:
            raise ValidationError("The portal address must start with https://: sign-in happens there.")
        address = f"{parts.scheme}://{parts.netloc.lower()}"
        if parts.netloc.lower() in {host_of(current_app.config[key]) for key in ("PORTAL_BASE_URL",
                                                                                   "GOOGLE_REDIRECT_URI")}:
            raise ValidationError("That address is the platform's own (the shared portal or the Google broker).")
        if db.session.scalar(sa.select(Company.id).where(Company.portal_url.in_(portal_url_forms(parts.netloc)),
                                                         Company.id != form.company_id)):
            raise ValidationError("Another company already uses that address.")
        field.address = address


class CompanyProfileForm(FlaskForm):
    """Company Settings → Branding: what every page of the company's portal wears, and where it lives."""

    name = StringField("Company name", validators=[DataRequired("Please enter the company name."), Length(max=120)])
    logo = FileField("Logo", validators=[LogoFile()],
                     description="PNG, JPEG or WebP, up to 512 KB. Shown in the header and as the browser tab's icon.",
                     render_kw={"accept": "image/png,image/jpeg,image/webp"})
    remove_logo = BooleanField("Remove the current logo")
    brand_color = ColorField("Brand colour", validators=[DataRequired("Please choose a brand colour."),
                                                         readable_colour],
                             description="The colour of the header and buttons; their text is white or black, "
                                         "whichever reads better.")
    portal_url = StringField("Portal address", validators=[Length(max=255), PortalAddress()],
                             description="Your portal's own address, e.g. https://portal.example.com (point it at "
                                         "the platform first). Empty: the shared address.")
    submit = SubmitField("Save branding")

    def __init__(self, *args, company_id: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.company_id = company_id


class IntegrationsVisibilityForm(FlaskForm):
    """One switch per role; checked means the role sees Integrations. Admins always do.

    The group switches on the page are conveniences in settings.js that flip these
    per-role fields, so the server only ever reads the per-role values.
    """

    visible_manager = BooleanField("Manager", render_kw={"role": "switch"})
    visible_staff = BooleanField("Staff", render_kw={"role": "switch"})
    visible_prospect = BooleanField("Prospect", render_kw={"role": "switch"})
    visible_client = BooleanField("Client", render_kw={"role": "switch"})
    submit = SubmitField("Save visibility")

    def role_field(self, role: Role) -> BooleanField:
        return self[f"visible_{role.value}"]

    def load(self, hidden_roles: list[str]) -> None:
        for role in HIDEABLE_ROLES:
            self.role_field(role).data = role.value not in hidden_roles

    def hidden_roles(self) -> list[str]:
        return [role.value for role in HIDEABLE_ROLES if not self.role_field(role).data]


class GoogleMeetForm(FlaskForm):
    google_meet = BooleanField("New appointments get a Google Meet link",
                               render_kw={"role": "switch"},
                               description="The default of each appointment's video choice (None, Google Meet or a "
                                           "link of its own); the Meet is made when the appointment reaches Google "
                                           "through a 2-WAY Sync.")
    submit = SubmitField("Save")


def _choices(members) -> list[SelectChoice]:
    return [SelectChoice("", "All")] + [SelectChoice(m.value, m.label) for m in members]


class ConnectionFilterForm(FlaskForm):
    """Query-string filters of the connections overview (a GET form: no CSRF, nothing changes)."""

    class Meta:
        csrf = False

    role = SelectField("Role", choices=_choices(Role), validate_choice=False)
    status = SelectField("Status", choices=_choices(ConnectionStatus), validate_choice=False)

    def validate_role(self, field) -> None:
        if field.data and field.data not in {r.value for r in Role}:
            raise ValidationError(f"Unknown role '{field.data}'. Use one of: {', '.join(r.value for r in Role)}.")

    def validate_status(self, field) -> None:
        if field.data and field.data not in {s.value for s in ConnectionStatus}:
            raise ValidationError(
                f"Unknown status '{field.data}'. Use one of: {', '.join(s.value for s in ConnectionStatus)}.")
