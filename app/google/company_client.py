"""Which OAuth client a company's people sign in with: the shared "My Portal App", or the company's own.

An agency may want its own name on Google's consent screen: it registers its own OAuth client (with the
broker's one redirect URI) and an operator stores it on the company (`flask set-google-client`), the
secret encrypted at rest. A grant belongs to the client that obtained it, so token refreshes make the
same choice; changing a company's client therefore asks its people to reconnect.
"""
from __future__ import annotations

import sqlalchemy as sa
from authlib.integrations.flask_client import FlaskOAuth2App
from flask import current_app

from ..crypto import decrypt
from ..models import Company
from .oauth import google_sign_in


def client_id_of_company() -> sa.ColumnElement[str]:
    """`client_credentials(company)[0]` as SQL on `Company`: the OAuth client its people's grants belong to."""
    return sa.func.coalesce(Company.google_client_id, current_app.config["GOOGLE_CLIENT_ID"])


def client_credentials(company: Company) -> tuple[str, str]:
    if company.google_client_id:
        return company.google_client_id, decrypt(company.google_client_secret_enc) or ""
    return current_app.config["GOOGLE_CLIENT_ID"], current_app.config["GOOGLE_CLIENT_SECRET"]


def sign_in_client(company: Company) -> FlaskOAuth2App:
    """authlib's client for the company's OAuth client: the registered one, or a copy with the company's
    id and secret (same endpoints and scopes, and the provider metadata already loaded)."""
    shared = google_sign_in()
    client_id, client_secret = client_credentials(company)
    if client_id == shared.client_id:
        return shared
    return FlaskOAuth2App(shared.framework, shared.name, client_id=client_id, client_secret=client_secret,
                          client_kwargs=shared.client_kwargs, **shared.load_server_metadata())
