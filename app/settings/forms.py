"""Company Settings forms: profile (branding), Integrations visibility, connection filters."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, ColorField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from ..models import ConnectionStatus, Role
from ..models.core import CONTACT_ROLES, STAFF_ROLES

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
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
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
            raise ValidationError("The logo must be a PNG, JPEG, GIF or WebP image.")
        field.image_bytes, field.image_type = data, image_type


class CompanyProfileForm(FlaskForm):
    name = StringField("Company name", validators=[DataRequired("Please enter the company name."), Length(max=120)])
    logo = FileField("Logo", validators=[LogoFile()],
                     description="PNG, JPEG, GIF or WebP, up to 512 KB. Shown in the portal header.",
                     render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"})
    remove_logo = BooleanField("Remove the current logo")
    brand_color = ColorField("Brand colour", validators=[
        DataRequired("Please choose a brand colour."),
        Regexp(r"^#[0-9a-fA-F]{6}$", message="The brand colour must look like #1a2b3c.")],
        description="The colour of the portal header and buttons.")
    submit = SubmitField("Save profile")


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
    google_meet = BooleanField("Add a Google Meet link to appointments synced through the 2-WAY Sync",
                               render_kw={"role": "switch"},
                               description="An appointment with its own meeting link keeps that link.")
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
