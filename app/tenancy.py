"""Which company a host name belongs to, and where each company's portal lives.

A company may serve its portal on a domain of its own (`Company.portal_url`, scheme and host only);
companies without one share `PORTAL_BASE_URL`. The host a request arrives on therefore decides whose
portal it is: on a company's own host only that company's people sign in, and people of a company with
its own host sign in only there, so a brand never shows another company's users and a session cookie
(host-only) never spans two tenants.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from .extensions import db
from .models import Company


def portal_base(company: Company) -> str:
    """The company's portal root, ending in a slash."""
    return (company.portal_url or current_app.config["PORTAL_BASE_URL"]).rstrip("/") + "/"


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def portal_url_forms(host: str) -> list[str]:
    """Every way `portal_url` may spell a portal on this host, so the lookup stays one indexed IN."""
    host = host.lower()
    return [f"{scheme}://{host}{slash}" for scheme in ("https", "http") for slash in ("", "/")]


def companies_signing_in_on(host: str) -> sa.ColumnElement[bool]:
    """SQL condition on `Company`: the companies whose people may sign in on this host.

    A host some company claims serves that company alone; any other host (the shared portal) serves
    only the companies without a host of their own.
    """
    forms = portal_url_forms(host)
    claimant = aliased(Company)
    return sa.or_(Company.portal_url.in_(forms),
                  sa.and_(Company.portal_url.is_(None), ~sa.exists().where(claimant.portal_url.in_(forms))))


def host_company(host: str) -> Company | None:
    """The company that claims this host as its own portal, if any (the shared portal: None)."""
    return db.session.scalar(sa.select(Company).where(Company.portal_url.in_(portal_url_forms(host))))


def serves(host: str, company_id: int) -> bool:
    """Whether this host is (one of) the company's portal: its own host, or the shared one if it has none."""
    return db.session.scalar(sa.select(Company.id).where(Company.id == company_id,
                                                         companies_signing_in_on(host))) is not None
