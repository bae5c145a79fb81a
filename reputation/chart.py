"""A member's reputation over time, drawn as server-rendered SVG.

The series is the score as it stood at the end of each UTC day with ledger activity: the lines
netted per fact key, positive vote reputation capped per day (the score's own rule, see
`leaderboards.fold_capped`), a running total from the base of 1, never shown below 1. It reads
the leaderboards' read model (`ReputationDay`, kept by the ledger's syncs, the keys already
netted per member and day), not the ledger: one grouped query over one row per day and
challenge, however long the member's ledger.

The drawing has no script and no inline style (the CSP forbids both): classes only, styled in
site.css. Every piece of text is escaped."""

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.core import UnknownLocaleError
from babel.dates import format_skeleton
from django.core.cache import cache
from django.db.models import Sum
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from . import rules
from .models import ReputationDay

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 52, 40, 14, 34
Y_TICKS = 4
X_LABELS = 4


@dataclass(frozen=True)
class Point:
    day: date
    total: Decimal


def reputation_series(member) -> list[Point]:
    """The member's score at the end of each day with ledger activity, oldest first."""
    cap = Decimal(rules.rules().daily_vote_cap)
    days = (
        ReputationDay.objects.filter(member=member)
        .order_by("day")
        .values_list("day")
        .annotate(gained=Sum("gained"), other=Sum("other"))
    )
    points, running = [], Decimal(1)
    for day, gained, other in days:
        running += min(cap, gained) + other
        points.append(Point(day=day, total=max(Decimal(1), running)))
    return points


def _fmt(number: Decimal) -> str:
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return text if text not in {"", "-0"} else "0"


def _nice_ceiling(value: Decimal) -> Decimal:
    """A round top for the y axis: 1, 2 or 5 times a power of ten, at least `value`."""
    step = Decimal(1)
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def axis_date(day: date, language: str | None = None) -> str:
    """A day on the axis as the reader's language writes it short (Babel, CLDR): “Dec 3, 2026”,
    “3 déc. 2026”, “3 ديسمبر 2026”."""
    locale = translation.to_locale(language or translation.get_language() or "en")
    try:
        return format_skeleton("yMMMd", day, locale=locale)
    except (UnknownLocaleError, ValueError):
        return format_skeleton("yMMMd", day, locale="en")


# A drawing is a pure function of the points, the label and the language: kept in the cache under
# a digest of all of them (like the lineage drawings), so a long history is drawn once, and any
# new point is a new key, never a stale drawing.
CHART_TIMEOUT = 24 * 60 * 60


def reputation_chart(points: list[Point], *, label: str) -> SafeString:
    """`draw_chart`, kept: a profile's chart of a 400-day history took half of its page's time."""
    raw = repr(
        (translation.get_language(), label, [(p.day.isoformat(), str(p.total)) for p in points])
    )
    key = "reputation-chart:" + hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()
    drawing = cache.get(key)
    if drawing is None:
        drawing = str(draw_chart(points, label=label))
        cache.set(key, drawing, timeout=CHART_TIMEOUT)
    return mark_safe(drawing)  # noqa: S308  (drawn by draw_chart, which escapes every text)


def draw_chart(points: list[Point], *, label: str) -> SafeString:
    """The running total as a line over a date axis, with a visually hidden table of the same
    figures for screen readers. `label` names the chart (escaped)."""
    if not points:
        return format_html('<p class="muted small">{}</p>', gettext("No reputation history yet."))
    first, last = points[0].day, points[-1].day
    span_days = max(1, (last - first).days)
    top = _nice_ceiling(max(p.total for p in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        if first == last:
            return LEFT + plot_w / 2
        return LEFT + plot_w * (day - first).days / span_days

    def y(total: Decimal) -> float:
        return TOP + plot_h * (1 - float(total / top))

    # A step line: the score holds until the next day with activity.
    coords = []
    for i, point in enumerate(points):
        if i:
            coords.append(f"{x(point.day):.1f},{y(points[i - 1].total):.1f}")
        coords.append(f"{x(point.day):.1f},{y(point.total):.1f}")

    parts = []
    for i in range(Y_TICKS + 1):
        value = top * i / Y_TICKS
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="chart-label chart-label-y" x="{}" y="{}">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                f"{y(value):.1f}",
                f"{y(value):.1f}",
                LEFT - 6,
                f"{y(value) + 4:.1f}",
                _fmt(value),
            )
        )
    if first == last:
        label_days = [first]
    else:
        label_days = sorted(
            {first + (last - first) * i // X_LABELS for i in range(X_LABELS + 1)} | {first, last}
        )
    for day in label_days:
        parts.append(
            format_html(
                '<text class="chart-label chart-label-x" x="{}" y="{}">{}</text>',
                f"{x(day):.1f}",
                HEIGHT - 10,
                axis_date(day),
            )
        )
    parts.append(
        format_html(
            '<line class="chart-axis" x1="{}" x2="{}" y1="{}" y2="{}"/>',
            LEFT,
            WIDTH - RIGHT,
            TOP + plot_h,
            TOP + plot_h,
        )
    )
    parts.append(format_html('<polyline class="chart-line" points="{}"/>', " ".join(coords)))
    for point in points:
        parts.append(
            format_html(
                '<circle class="chart-point" cx="{}" cy="{}" r="3"><title>{}: {}</title></circle>',
                f"{x(point.day):.1f}",
                f"{y(point.total):.1f}",
                axis_date(point.day),
                _fmt(point.total),
            )
        )
    summary = gettext("{label}: from {start} on {start_day} to {end} on {end_day}").format(
        label=label,
        start=_fmt(points[0].total),
        start_day=axis_date(first),
        end=_fmt(points[-1].total),
        end_day=axis_date(last),
    )
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td></tr>", ((p.day.isoformat(), _fmt(p.total)) for p in points)
    )
    drawing = format_html_join("", "{}", ((part,) for part in parts))
    return format_html(
        '<figure class="reputation-chart">'
        '<svg class="chart-svg" viewBox="0 0 {} {}" role="img" aria-label="{}"'
        ' xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>'
        '<div class="visually-hidden"><table><caption>{}</caption>'
        '<thead><tr><th scope="col">{}</th><th scope="col">{}</th></tr></thead>'
        "<tbody>{}</tbody></table></div>"
        "</figure>",
        WIDTH, HEIGHT, summary, label, drawing, label,
        gettext("Day"), gettext("Reputation"), rows,
    )  # fmt: skip
