"""A challenge's evolution: its population per generation (how many solutions, the best and the
mean fitness), the lineage forest with the fittest line of each tree marked, and the timeline of
its selection rounds. A fixed number of queries whatever the population; the chart is
server-rendered SVG with classes only (the CSP forbids inline style and script)."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Count, Max
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext, pgettext

from challenges import selectors as challenge_selectors
from challenges.lineage_svg import lineage_list, lineage_svg
from challenges.models import Challenge, SelectionRound
from challenges.selectors import Lineage

from .models import SolutionScore

LINEAGES_SHOWN = 12
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 16, 36


@dataclass(frozen=True)
class Generation:
    generation: int
    count: int
    best: Decimal
    mean: Decimal


@dataclass
class Evolution:
    challenge: Challenge
    generations: list[Generation]
    lineages: list[tuple[Lineage, frozenset[int]]]
    more_lineages: int
    rounds: list[SelectionRound]
    fittest: dict[int, Decimal] = field(default_factory=dict)


def _ranked(challenge: Challenge):
    """The challenge's ranked scores, to be read with columns of their solutions. The solutions
    are narrowed to the challenge's too (a score's challenge is its solution's): otherwise the
    planner hashes every solution on the platform to meet a few thousand scores."""
    return SolutionScore.objects.filter(
        challenge=challenge, rank__isnull=False, solution__challenge=challenge
    )


def generations(challenge: Challenge) -> list[Generation]:
    """Ranked (published) solutions of the challenge per generation: one aggregate query."""
    rows = (
        _ranked(challenge)
        .values("solution__generation")
        .annotate(count=Count("pk"), best=Max("fitness"), mean=Avg("fitness"))
        .order_by("solution__generation")
    )
    return [
        Generation(
            generation=row["solution__generation"],
            count=row["count"],
            best=Decimal(row["best"]).quantize(Decimal("0.01")),
            mean=Decimal(row["mean"]).quantize(Decimal("0.01")),
        )
        for row in rows
    ]


def _fittest_branch(lineage: Lineage, fitness: dict[int, Decimal]) -> frozenset[int]:
    """The root-to-node path of the tree's fittest solution of this challenge."""
    scored = [node for node in lineage.nodes.values() if node.id in fitness and node.visible]
    if not scored:
        return frozenset()
    best = max(scored, key=lambda node: (fitness[node.id], -node.id))
    path, node = {best.id}, best
    while node.parent_id in lineage.nodes:
        node = lineage.nodes[node.parent_id]
        path.add(node.id)
    return frozenset(path)


def evolution(*, user, challenge: Challenge) -> Evolution:
    """Everything the evolution page and its API twin show (the caller checked visibility)."""
    fitness, best_in_tree = {}, {}
    for solution_id, root_id, value in (
        _ranked(challenge).order_by().values_list("solution_id", "solution__root_id", "fitness")
    ):
        fitness[solution_id] = value
        best_in_tree[root_id] = max(value, best_in_tree.get(root_id, value))
    # The trees holding the fittest solutions first (a tree's best is among this challenge's
    # ranked solutions, all of which lie in the challenge's trees); only those shown are read.
    roots = sorted(
        challenge_selectors.challenge_lineage_roots(challenge),
        key=lambda root_id: (-best_in_tree.get(root_id, Decimal(-1)), root_id),
    )
    forest = challenge_selectors.challenge_lineage_forest(
        user=user, challenge=challenge, roots=roots[:LINEAGES_SHOWN]
    )
    place = {root_id: i for i, root_id in enumerate(roots)}
    forest.sort(key=lambda lineage: place[lineage.root.id])
    rounds = [
        r
        for r in challenge_selectors.selection_rounds(user=user, challenge=challenge)
        if r.is_published
    ]
    return Evolution(
        challenge=challenge,
        generations=generations(challenge),
        lineages=[(lineage, _fittest_branch(lineage, fitness)) for lineage in forest],
        more_lineages=max(0, len(roots) - LINEAGES_SHOWN),
        rounds=rounds,
        fittest=fitness,
    )


def lineage_drawings(result: Evolution) -> list[tuple[Lineage, SafeString, SafeString]]:
    """Each lineage with its drawing and the drawing's text version (nested lists of links)."""
    return [
        (
            lineage,
            lineage_svg(
                lineage,
                label=gettext("Lineage of {title}").format(title=lineage.root.title),
                highlight=branch,
            ),
            lineage_list(lineage, highlight=branch),
        )
        for lineage, branch in result.lineages
    ]


def evolution_chart(points: list[Generation], *, label: str) -> SafeString:
    """Bars: solutions per generation (right axis); lines: best and mean fitness (left axis,
    0-100). A visually hidden table carries the same figures for screen readers."""
    if not points:
        return format_html('<p class="muted small">{}</p>', gettext("No ranked solution yet."))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(points)
    most = max(p.count for p in points)

    def x(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    def y_fit(value: Decimal) -> float:
        return TOP + plot_h * (1 - float(value) / 100)

    def y_count(count: int) -> float:
        return TOP + plot_h * (1 - count / most)

    parts = []
    for tick in (0, 25, 50, 75, 100):
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="chart-label chart-label-y" x="{}" y="{}">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                f"{y_fit(tick):.1f}",
                f"{y_fit(tick):.1f}",
                LEFT - 6,
                f"{y_fit(tick) + 4:.1f}",
                tick,
            )
        )
    parts.append(
        format_html(
            # Above the plot's top right corner, ending there: beside it, a longer label (or
            # one in another language) ran out of the drawing.
            '<text class="chart-label chart-label-y" x="{}" y="{}">{}</text>',
            WIDTH - RIGHT,
            f"{TOP - 5:.1f}",
            ngettext("{count} solution", "{count} solutions", most).format(count=most),
        )
    )
    bar_w = max(4.0, slot * 0.5)
    for i, point in enumerate(points):
        top = y_count(point.count)
        parts.append(
            format_html(
                '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}">'
                "<title>{}</title></rect>"
                '<text class="chart-label chart-label-x" x="{}" y="{}">{}</text>',
                f"{x(i) - bar_w / 2:.1f}",
                f"{top:.1f}",
                f"{bar_w:.1f}",
                f"{TOP + plot_h - top:.1f}",
                ngettext(
                    "Generation {generation}: {count} solution",
                    "Generation {generation}: {count} solutions",
                    point.count,
                ).format(generation=point.generation, count=point.count),
                f"{x(i):.1f}",
                HEIGHT - 12,
                pgettext("chart axis, short for generation", "gen {generation}").format(
                    generation=point.generation
                ),
            )
        )
    for css, attr in (("chart-line", "best"), ("chart-line-mean", "mean")):
        coords = " ".join(f"{x(i):.1f},{y_fit(getattr(p, attr)):.1f}" for i, p in enumerate(points))
        parts.append(format_html('<polyline class="{}" points="{}"/>', css, coords))
    for i, point in enumerate(points):
        parts.append(
            format_html(
                '<circle class="chart-point" cx="{}" cy="{}" r="3"><title>{}</title></circle>',
                f"{x(i):.1f}",
                f"{y_fit(point.best):.1f}",
                gettext("Generation {generation}: best {best}, mean {mean}").format(
                    generation=point.generation,
                    best=number_format(point.best),
                    mean=number_format(point.mean),
                ),
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
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((p.generation, p.count, number_format(p.best), number_format(p.mean)) for p in points),
    )
    drawing = format_html_join("", "{}", ((part,) for part in parts))
    return format_html(
        '<figure class="reputation-chart evolution-chart">'
        '<svg class="chart-svg" viewBox="0 0 {} {}" role="img" aria-label="{}"'
        ' xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>'
        '<figcaption class="chart-legend small"><span><span class="legend-swatch legend-best">'
        '</span>{}</span><span><span class="legend-swatch legend-mean"></span>{}</span>'
        '<span><span class="legend-swatch legend-count"></span>{}</span>'
        "</figcaption>"
        '<div class="visually-hidden"><table><caption>{}</caption><thead><tr>'
        '<th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th><th scope="col">{}</th></tr></thead>'
        "<tbody>{}</tbody></table></div></figure>",
        WIDTH,
        HEIGHT,
        label,
        label,
        drawing,
        gettext("best fitness"),
        gettext("mean fitness"),
        pgettext("chart legend", "solutions"),
        label,
        gettext("Generation"),
        gettext("Solutions"),
        gettext("Best fitness"),
        gettext("Mean fitness"),
        rows,
    )
