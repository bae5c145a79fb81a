"""The simulation's HTML report: the figures against their goals, and charts drawn as inline
SVG on the server (no script, no asset from another host)."""

import html
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.safestring import mark_safe

from peerhub import pagecache

from .pagecache import SIMULATION
from .simulation_text import MEASURED, Figure, Text

REPORT_NAME = "simulation-report.html"


def report_path() -> Path:
    return Path(getattr(settings, "PEERHUB_SIMULATION_REPORT_DIR", settings.VAR_DIR)) / REPORT_NAME


def figures_path() -> Path:
    return report_path().with_suffix(".json")


def _bars(title: str, items: list[tuple[str, float]], *, unit: str = "", width: int = 560) -> str:
    """A horizontal bar chart."""
    if not items:
        return ""
    top = max(abs(v) for _label, v in items) or 1
    row, label_w = 22, 170
    height = row * len(items) + 30
    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 24 + i * row
        w = max(1, int((width - label_w - 70) * abs(value) / top))
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{html.escape(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{w}" height="{row - 6}" fill="#3b6ea5"/>'
        )
        parts.append(
            f'<text x="{label_w + w + 6}" y="{y + 13}" font-size="12">{value:.2f}{unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _line(title: str, values: list[float], *, unit: str, width: int = 560) -> str:
    """A line chart of one series over days."""
    if not values:
        return ""
    height, pad = 160, 30
    top = max(values) or 1
    step = (width - 2 * pad) / max(1, len(values) - 1)
    points = " ".join(
        f"{pad + i * step:.1f},{height - pad - (height - 2 * pad) * v / top:.1f}"
        for i, v in enumerate(values)
    )
    return (
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="0" y="14" font-size="13" font-weight="bold">{html.escape(title)}</text>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="#999"/>'
        f'<polyline points="{points}" fill="none" stroke="#3b6ea5" stroke-width="2"/>'
        f'<text x="{pad}" y="{height - 8}" font-size="11">day 1</text>'
        f'<text x="{width - pad - 40}" y="{height - 8}" font-size="11">day {len(values)}</text>'
        f'<text x="{pad}" y="{pad}" font-size="11">{top:.2f}{unit}</text></svg>'
    )


@dataclass(frozen=True)
class FigureRow:
    """One figure as the report and the public page show it: the value and goal as HTML, a
    short one kept on one line ("≥ 0.8", "0 of 100") however narrow the phone, a longer one
    ("too few to measure") free to wrap."""

    name: str
    value: str
    goal: str
    measured: bool  # no goal: only measured
    reached: bool


def _unbroken(text: str) -> str:
    escaped = html.escape(text)
    return mark_safe(escaped.replace(" ", "&nbsp;") if len(text) <= 12 else escaped)  # noqa: S308


def figure_rows(figures) -> list[FigureRow]:
    """The rows of figures for display: those of a stored summary (`summary`) worded in the
    active language, `Result.figures()`'s English ones and those of a summary stored before
    figures were kept as data (name, value, goal, reached: words) as they are."""
    rows = []
    for figure in figures:
        if isinstance(figure, dict):
            figure = Figure.from_data(figure).shown()
        name, value, goal, reached = figure
        rows.append(
            FigureRow(name, _unbroken(value), _unbroken(goal), goal == MEASURED, bool(reached))
        )
    return rows


def summary(result) -> dict:
    """What the public page shows: the run's size and its figures, as data (each text its
    English message and the numbers it quotes: reputation.simulation_text), worded in the
    reader's language when the page is shown."""
    c = result.config
    return {
        "members": c.members,
        "challenges": c.challenges,
        "days": c.days,
        "seed": c.seed,
        "purses": result.purses,
        "figures": [figure.data() for figure in result.figure_texts()],
        "adversaries": [
            {"name": name.data(), "figures": [figure.data() for figure in figures]}
            for name, figures in result.adversary_texts()
        ],
    }


def adversary_tables(summary: dict | None) -> list[tuple[str, list[FigureRow]]]:
    """A stored summary's adversaries, each with its rows for display (none in a summary
    written by a run without adversaries, or before they were stored)."""
    if not summary:
        return []
    return [
        (_caption(group["name"]), figure_rows(group["figures"]))
        for group in summary.get("adversaries", [])
    ]


def _caption(name) -> str:
    """An adversary's name: data since figures are kept as data, words before."""
    return str(Text.from_data(name)) if isinstance(name, dict) else name


def _verdict(row: FigureRow) -> str:
    if row.measured:
        return "(measured)"
    return "reached" if row.reached else "not reached"


def _prizes_sentence(result) -> str:
    if not result.purses:
        return "No prizes: no challenge carried a purse in this run."
    return (
        f"Prizes: {result.purses} purses took {result.money(result.money_contributed)} "
        f"({result.money(result.money_fees)} in fees); {result.money(result.money_awarded)} was "
        f"awarded, {result.money(result.money_to_ancestors)} of it to ancestors as lineage shares; "
        f"purses refunded for want of winners: {result.purses_refunded}. Money is not "
        f"reputation: lines the awards added to the reputation ledger: "
        f"{result.money_reputation_lines}."
    )


def _money_charts(result) -> list[str]:
    if not result.purses:
        return []
    unit = f" {result.currency}"
    kept = result.money_awarded - result.money_to_ancestors
    return [
        _bars(
            "Mean prize money by role",
            [(role, value) for role, value in result.money_by_role.items()],
            unit=unit,
        ),
        _bars(
            "Prize money: kept by winners, shared with ancestors",
            [("kept by winners", kept / 100), ("to ancestors", result.money_to_ancestors / 100)],
            unit=unit,
        ),
    ]


def _adversaries_section(result) -> str:
    """Issue 23: for each adversary switched on, what it was worth to the attackers, what it
    cost honest members and which existing rule caught it."""
    groups = result.adversary_figures()
    if not groups:
        return ""
    parts = [
        "<h2>Adversaries</h2><p>Each adversary acts through the real services; the figures are "
        "those of this run, under the rules as they stand.</p>"
    ]
    for name, figures in groups:
        rows = "".join(
            f"<tr><th scope='row'>{html.escape(row.name)}</th><td>{row.value}</td>"
            f"<td>{row.goal}</td><td>{_verdict(row)}</td></tr>"
            for row in figure_rows(figures)
        )
        parts.append(
            f"<h3>{html.escape(name)}</h3><div class='scroll'><table><thead><tr><th>Figure</th>"
            f"<th>Value</th><th>Goal</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    return "".join(parts)


def render(result) -> str:
    c = result.config
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(row.name)}</th><td>{row.value}</td>"
        f"<td>{row.goal}</td><td>{_verdict(row)}</td></tr>"
        for row in figure_rows(result.figures())
    )
    taus = sorted(result.tau_per_challenge.values())
    charts = [
        _bars(
            "Kendall τ per challenge (hidden quality vs rank)",
            [(f"challenge {i + 1}", t) for i, t in enumerate(taus)],
        ),
        _bars(
            "Mean reputation by role",
            [(role, value) for role, value in result.reputation_by_role.items()],
        ),
        *_money_charts(result),
        _line("Seconds per simulated day", result.seconds_per_day, unit=" s"),
    ]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PeerHub community simulation</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem;
color:#1f2933}}table{{border-collapse:collapse}}td,th{{padding:4px 10px;border-bottom:1px solid
#ddd;text-align:left}}.scroll{{overflow-x:auto}}svg{{display:block;margin:1.5rem 0;
max-width:100%;height:auto}}@media (max-width:480px){{td,th{{padding:4px 5px}}}}</style>
</head><body>
<h1>Community simulation</h1>
<p>{c.members} members, {c.challenges} challenges, {c.days} days, seed {c.seed};
ring {result.ring_size} members ({c.ring_share:.0%}); {result.solutions} solutions,
{result.votes} votes, {result.reviews} reviews. Low-trust at the end: {result.low_trust_ring} of
the ring, {result.low_trust_honest} honest members.</p>
<p>{html.escape(_prizes_sentence(result))}</p>
<div class="scroll"><table><thead><tr><th>Figure</th><th>Value</th><th>Goal</th><th></th></tr>
</thead><tbody>{rows}</tbody></table></div>
{"".join(charts)}
{_adversaries_section(result)}
</body></html>
"""


def write(result) -> Path:
    path = report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
    figures_path().write_text(json.dumps(summary(result), ensure_ascii=False), encoding="utf-8")
    # "How reputation works" quotes these figures: its cached page is stale now.
    pagecache.bump(SIMULATION)
    return path


# The figures of the run published with this version of PeerHub (the goal size, every
# adversary on; README, "Trust and the community simulation"): what the public page quotes on a
# site that has not run one of its own.
PUBLISHED = Path(__file__).with_name("simulation_published.json")


def published_path() -> Path | None:
    return getattr(settings, "PEERHUB_SIMULATION_PUBLISHED", PUBLISHED)


def latest_summary() -> dict | None:
    """The figures of the latest run on this site, for the public page; without one, those of
    the run published with this version (marked `published`); None when there are neither."""
    for path, published in ((figures_path(), False), (published_path(), True)):
        if path is None:
            continue
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return {**summary, "published": published}
    return None
