"""The Calendar page: the user's own items and Google events by month or week."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from flask import abort, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..timefmt import zone
from . import bp
from .entries import busy_entries, entries_by_day, week_start

VIEWS = ("month", "week", "agenda")  # agenda: the month as a list of days (what a phone shows for month)
MIN_DAY, MAX_DAY = date(1970, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class Range:
    """The days a page shows, and where prev/next go."""

    view: str
    anchor: date
    first: date
    last: date
    title: str
    prev: date
    next: date

    @property
    def all_days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def days(self) -> list[date]:
        """The days of the month or week itself (a month grid's leading and trailing days left out)."""
        return [day for day in self.all_days if self.view == "week" or day.month == self.anchor.month]

    @property
    def weeks(self) -> list[list[date]]:
        days = self.all_days
        return [days[n:n + 7] for n in range(0, len(days), 7)]


def month_range(anchor: date) -> Range:
    month_first = anchor.replace(day=1)
    next_month = (month_first + timedelta(days=32)).replace(day=1)
    first = week_start(month_first)
    last = week_start(next_month - timedelta(days=1)) + timedelta(days=6)
    prev_month = (month_first - timedelta(days=1)).replace(day=1)
    return Range("month", anchor, first, last, month_first.strftime("%B %Y"), prev_month, next_month)


def week_range(anchor: date) -> Range:
    first = week_start(anchor)
    return Range("week", anchor, first, first + timedelta(days=6), f"Week of {first.strftime('%a %d %b %Y')}",
                 first - timedelta(days=7), first + timedelta(days=7))


def parse_args(today: date) -> Range:
    """`view` and `date` from the query string; anything malformed is a 400 with a plain message."""
    view = request.args.get("view", "month")
    if view not in VIEWS:
        abort(400, "Unknown calendar view: use view=month, view=week or view=agenda.")
    raw = request.args.get("date")
    anchor = today
    if raw:
        try:
            anchor = datetime.strptime(raw, "%Y-%m-%d").date()
        except ValueError:
            abort(400, "Not a valid date: use date=YYYY-MM-DD, for example date=2030-05-06.")
        if not MIN_DAY <= anchor <= MAX_DAY:
            abort(400, f"Pick a date between {MIN_DAY.year} and {MAX_DAY.year}.")
    return week_range(anchor) if view == "week" else replace(month_range(anchor), view=view)


def page_url(view: str, day: date) -> str | None:
    """A link to another page of the calendar, or None past the dates we accept."""
    return url_for("calendar.index", view=view, date=day.isoformat()) if MIN_DAY <= day <= MAX_DAY else None


@bp.route("/")
@login_required
def index() -> str:
    today = datetime.now(zone(current_user.timezone)).date()
    shown = parse_args(today)
    busy, busy_unavailable = busy_entries(current_user, shown.first, shown.last)
    page = render_template(
        "calendar/index.html", shown=shown, today=today, busy_unavailable=busy_unavailable, busy_shown=bool(busy),
        by_day=entries_by_day(current_user, shown.first, shown.last, busy),
        prev_url=page_url(shown.view, shown.prev), next_url=page_url(shown.view, shown.next),
        today_url=url_for("calendar.index", view=shown.view),
        view_urls={view: url_for("calendar.index", view=view, date=shown.anchor.isoformat()) for view in VIEWS},
    )
    db.session.commit()  # a Google token refreshed for the busy times is kept (else refreshed again next time)
    return page
