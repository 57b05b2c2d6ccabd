"""Mail jobs: compose in the company's brand (`app.mailing`) and send through SMTP, outside any web request."""
from __future__ import annotations

from app.extensions import db
from app.mailing import branded_message
from app.models import User
from app.passwords import reset_link


def send_password_reset(user_id: int) -> None:
    """The link to choose a new password, to the person's address, in their company's brand."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    branded_message(user.company, user.email, f"Choose a new password for {user.company.name}", "password_reset",
                    user=user, link=reset_link(user)).send()
