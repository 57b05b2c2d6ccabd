"""Mail in the company's brand: its name as the sender's, its logo and colours, its own portal address in every
link, a plain-text part beside the HTML; nothing of the platform's name. Composed here, sent by a job
(`jobs.mail`), through Flask-Mailman and the MAIL_* settings."""
from __future__ import annotations

from email.mime.image import MIMEImage
from email.utils import formataddr

from flask import current_app, render_template
from flask_mailman import EmailMultiAlternatives

from .branding import brand_of
from .models import Company
from .tenancy import portal_base

LOGO_CID = "logo"


def branded_message(company: Company, to: str, subject: str, template: str, **context) -> EmailMultiAlternatives:
    """`mail/<template>.txt` and `.html`, rendered with the company's brand and portal address."""
    brand = brand_of(company)
    context = {"brand": brand, "portal": portal_base(company), "logo_cid": LOGO_CID if brand.has_logo else None,
               **context}
    sender = formataddr((company.name[:70], current_app.config["MAIL_DEFAULT_SENDER"]))
    message = EmailMultiAlternatives(subject[:200], render_template(f"mail/{template}.txt", **context),
                                     from_email=sender, to=[to])
    message.attach_alternative(render_template(f"mail/{template}.html", **context), "text/html")
    if brand.has_logo:  # inline, so it shows without fetching anything (and whatever host the company has)
        logo = MIMEImage(company.logo, _subtype=company.logo_mimetype.split("/")[1])
        logo.add_header("Content-ID", f"<{LOGO_CID}>")
        logo.add_header("Content-Disposition", "inline", filename="logo")
        message.attach(logo)
    return message
