"""Whose brand a page wears, and the colour rules that keep it readable.

A page is the company's from its first pixel: a signed-in person's company, or else the company whose own
host the request came to (its sign-in, password reset, error and maintenance pages). The shared portal
address of companies without a host of their own, and the broker's host, wear the neutral brand.

Colours follow WCAG 2.1: text on the brand colour (the header, buttons) is white or near-black, whichever
contrasts more, and must reach 4.5:1 (AA for normal text); the brand colour itself is also the colour of
links' focus outlines and the calendar's "today" ring on the page's light background, where it must reach
3:1 (AA for user-interface components). A colour that cannot meet both is refused when an admin saves it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from .models import Company
from .tenancy import host_company

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LIGHT_TEXT, DARK_TEXT = "#ffffff", "#111827"
PAGE_BACKGROUND = "#f6f7fb"  # portal.css: body
TEXT_CONTRAST = 4.5  # WCAG 2.1 AA, normal text
ACCENT_CONTRAST = 3.0  # WCAG 2.1 AA, user-interface components and graphical objects
READABLE_LINK = "#0a58ca"  # 6:1 on the page, 5.8:1 on a warning banner


@dataclass(frozen=True)
class Brand:
    name: str
    colour: str
    text_colour: str
    company: Company | None = None  # None: the neutral brand

    @property
    def has_logo(self) -> bool:
        return bool(self.company and self.company.logo_mimetype)

    @property
    def link_colour(self) -> str:
        """Links wear the brand colour where it reads as text on the page (4.5:1), else a dark blue."""
        return self.colour if contrast(self.colour, PAGE_BACKGROUND) >= TEXT_CONTRAST else READABLE_LINK


NEUTRAL = Brand("Client Portal", "#2563eb", LIGHT_TEXT)


def luminance(colour: str) -> float:
    """Relative luminance of #rrggbb (WCAG 2.1)."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(colour: str) -> str:
    """White or near-black, whichever reads better on `colour`."""
    return max((LIGHT_TEXT, DARK_TEXT), key=lambda text: contrast(colour, text))


def colour_problem(colour: str) -> str | None:
    """Why `colour` cannot be the brand colour, in words for the admin; None when it can."""
    if not HEX_COLOUR.match(colour or ""):
        return "The brand colour must look like #1a2b3c."
    on_brand = contrast(colour, text_colour_on(colour))
    if on_brand < TEXT_CONTRAST:
        return (f"No text is readable on this colour (at best {on_brand:.1f}:1, at least {TEXT_CONTRAST}:1 is "
                "needed). Choose a darker or a lighter shade.")
    on_page = contrast(colour, PAGE_BACKGROUND)
    if on_page < ACCENT_CONTRAST:
        return (f"This colour is too light to show on the page's light background ({on_page:.1f}:1, at least "
                f"{ACCENT_CONTRAST:.0f}:1 is needed for outlines and marks). Choose a darker shade.")
    return None


def brand_of(company: Company | None) -> Brand:
    if company is None:
        return NEUTRAL
    colour = company.brand_color if HEX_COLOUR.match(company.brand_color or "") else NEUTRAL.colour
    return Brand(company.name, colour, text_colour_on(colour), company)


def current_brand() -> Brand:
    """The brand of this request (once per request): the signed-in person's company, else the host's."""
    if not has_request_context():
        return NEUTRAL
    if "brand" not in g:
        try:
            company = current_user.company if current_user.is_authenticated else host_company(request.host)
        except SQLAlchemyError:  # an error page while the database is away still gets a (neutral) page
            company = None
        g.brand = brand_of(company)
    return g.brand


def logo_etag(logo: bytes) -> str:
    return hashlib.sha256(logo).hexdigest()[:32]
