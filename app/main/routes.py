from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..branding import current_brand, logo_etag
from . import bp


@bp.route("/")
def home():
    return redirect(url_for("main.dashboard" if current_user.is_authenticated else "auth.login"))


@bp.route("/dashboard")
@login_required
def dashboard():
    from ..portal.kinds import KINDS
    from ..portal.queries import upcoming_items

    tz = current_user.timezone
    # The first detail of every kind is when it happens ("Due" / "When"), in the viewer's time zone.
    coming_up = [(item, KINDS[item.kind].details[0].value(item, tz))
                 for item in upcoming_items(current_user, limit=10)]
    return render_template("main/dashboard.html", coming_up=coming_up)


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: the company's logo where it has one."""
    target = url_for("main.brand_logo") if current_brand().has_logo else url_for("static", filename="favicon.svg")
    return redirect(target, 302)


@bp.route("/brand/logo")
def brand_logo():
    """The logo of this page's brand: the signed-in person's company, else the company whose host this is (its
    sign-in page is branded too). No id in the URL: nobody can count through the brands the platform serves.
    Cached by the browser, and revalidated cheaply by its ETag once changed."""
    brand = current_brand()
    if not brand.has_logo:
        abort(404)
    response = Response(brand.company.logo, mimetype=brand.company.logo_mimetype,
                        headers={"Cache-Control": "private, max-age=3600, must-revalidate",
                                 "X-Content-Type-Options": "nosniff", "Vary": "Cookie, Host"})
    response.set_etag(logo_etag(brand.company.logo))
    return response.make_conditional(request)
