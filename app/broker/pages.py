"""The broker's own pages: neutral (no tenant's name or colours), styled from the broker's own host, and with
a way back to the company whose sign-in the visit carries, if it carries a valid one."""
from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request

from ..extensions import db
from ..integrations.signin import SignInRefused, open_state
from ..models import Company
from ..tenancy import portal_base

HEADINGS = {400: "This sign-in cannot go on", 403: "Not available", 404: "Nothing here",
            429: "Please wait a moment", 503: "Please try again in a minute"}


@dataclass(frozen=True)
class Back:
    name: str
    url: str


def back_to_company() -> Back | None:
    """The company this visit's OAuth state names (a valid, unexpired one), and its own portal's Integrations
    page; None for any other visit, which then learns no tenant's name."""
    try:
        sign_in = open_state(request.args.get("state", ""))
    except SignInRefused:
        return None
    company = db.session.get(Company, sign_in.company_id)
    return Back(company.name, portal_base(company) + "integrations/") if company else None


def broker_page(code: int, message: str):
    return render_template("broker/page.html", heading=HEADINGS.get(code, "Something went wrong"),
                           message=message, back=back_to_company()), code
