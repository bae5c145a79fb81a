"""Draw a lineage tree as server-rendered SVG: generations left to right, one row per leaf.
In a right-to-left language (Arabic) the drawing is mirrored: the root on the right, generations
right to left, each box's text anchored at its right edge and laid out right to left.

Large trees stay readable by collapsing: each node shows at most MAX_CHILDREN children (the
branch leading to the highlighted solution first, then the most built-upon), and generations
deeper than MAX_DEPTH below the root are folded into a "+N deeper" marker, except along the
highlighted branch; the drawing holds at most MAX_DRAWN boxes (solutions and markers), filled
breadth first, while the whole branch from the root to the highlighted solution is always drawn.
Folded branches are counted on the marker, so nothing disappears silently.
No script and no inline style: classes only, styled by site.css, so the page's CSP holds."""

import functools
import hashlib
from collections import deque
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_bidi, gettext, ngettext

from .selectors import Lineage, LineageNode

MAX_CHILDREN = 6
MAX_DEPTH = 7
MAX_DRAWN = 160  # boxes: drawn solutions plus their markers

NODE_W, NODE_H = 172, 44
COL_W, ROW_H = 204, 54
PAD = 12


@dataclass
class _Box:
    node: LineageNode | None  # None: a "+N more" marker
    depth: int
    hidden: int = 0
    kind: str = "node"  # node, more, deeper
    children: list["_Box"] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0


# Rough advances, in em, of bold system sans-serif faces (the wide DejaVu Sans among them), so
# that a title cut to TEXT_W never spills out of its box whatever font the browser picks; the
# whole title stays in the node's <title> (the tooltip and the link's name).
_NARROW, _WIDE = set("fijlrtI!.,:;'|()[]{} "), set("mwMW@%")
TEXT_W = NODE_W - 24


def _advance(char: str) -> float:
    if char in _NARROW:
        return 0.38
    if char in _WIDE:
        return 0.98
    if char.isupper() or char.isdigit():
        return 0.76
    return 0.64


def _fit(text: str, *, font_px: float, width: float = TEXT_W) -> str:
    """The text, cut with an ellipsis where it would grow wider than `width` pixels."""
    limit = width / font_px
    if sum(_advance(c) for c in text) <= limit:
        return text
    used, kept = _advance("…"), []
    for char in text:
        used += _advance(char)
        if used > limit:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…"


def _ordered(children: list[LineageNode], path: set[int]) -> list[LineageNode]:
    """The branch leading to the highlighted solution first, then the most built-upon."""
    return sorted(children, key=lambda c: (c.id not in path, -c.descendant_count, c.id))


def _cost(node: LineageNode) -> int:
    """Boxes a drawn node may need: itself, plus one marker for children left out."""
    return 2 if node.children else 1


def _choose(lineage: Lineage, path: set[int]) -> set[int]:
    """The ids to draw: the root and the whole highlighted branch, then breadth first from the
    root, the most built-upon children first, while the drawing stays under MAX_DRAWN boxes.
    Each chosen node's cost reserves the marker it may need, so the bound holds for markers too
    (only a highlighted branch longer than the budget can exceed it)."""
    chosen = {lineage.root.id} | (path & lineage.nodes.keys())
    used = sum(_cost(lineage.nodes[i]) for i in chosen)
    queue = deque([(lineage.root, 0)])
    while queue and used < MAX_DRAWN:
        node, depth = queue.popleft()
        ordered = _ordered(node.children, path)
        if depth < MAX_DEPTH:
            for child in ordered[:MAX_CHILDREN]:
                if child.id in chosen:
                    continue
                if used + _cost(child) > MAX_DRAWN:
                    break
                chosen.add(child.id)
                used += _cost(child)
        queue.extend((child, depth + 1) for child in ordered if child.id in chosen)
    return chosen


def _layout(lineage: Lineage) -> tuple[_Box, int]:
    path = {a.id for a in lineage.ancestors}
    if lineage.current_id:
        path.add(lineage.current_id)
    chosen = _choose(lineage, path)

    def build(node: LineageNode, depth: int) -> _Box:
        box = _Box(node=node, depth=depth)
        shown = [c for c in _ordered(node.children, path) if c.id in chosen]
        rest = [c for c in node.children if c.id not in chosen]
        box.children = [build(child, depth + 1) for child in shown]
        if rest:
            kind = "deeper" if depth >= MAX_DEPTH and not shown else "more"
            hidden = sum(1 + c.descendant_count for c in rest)
            box.children.append(_Box(None, depth + 1, hidden=hidden, kind=kind))
        return box

    root = build(lineage.root, 0)
    rows = 0

    def place(box: _Box) -> None:
        nonlocal rows
        box.x = PAD + box.depth * COL_W
        if not box.children:
            box.y = PAD + rows * ROW_H
            rows += 1
            return
        for child in box.children:
            place(child)
        box.y = (box.children[0].y + box.children[-1].y) / 2

    place(root)
    return root, rows


def _walk(box: _Box):
    yield box
    for child in box.children:
        yield from _walk(child)


# A drawing is a pure function of the tree, the options and the language: kept in the cache
# under a digest of all of them, so an unchanged tree (a big challenge's overview, a lineage
# page) is drawn once, and any change to it is a new key, never a stale drawing.
DRAWING_TIMEOUT = 24 * 60 * 60


def _drawing_key(kind: str, lineage: Lineage, options: dict) -> str:
    nodes = [
        (
            n.id, n.parent_id, n.title, n.author, n.author_username, n.generation, n.status,
            n.challenge_slug, n.challenge_title, n.visible, n.url, n.descendant_count,
            [c.id for c in n.children],
        )
        for n in lineage.nodes.values()
    ]  # fmt: skip
    raw = repr(
        (
            kind,
            get_language(),
            sorted(options.get("highlight", ())),
            options.get("label", ""),
            lineage.root.id,
            lineage.current_id,
            [a.id for a in lineage.ancestors],
            lineage.total,
            nodes,
        )
    )
    return f"lineage-drawing:{kind}:{hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()}"


def _kept(kind: str):
    def decorate(draw):
        @functools.wraps(draw)
        def wrapper(lineage: Lineage, **options) -> SafeString:
            key = _drawing_key(kind, lineage, options)
            drawing = cache.get(key)
            if drawing is None:
                drawing = str(draw(lineage, **options))
                cache.set(key, drawing, timeout=DRAWING_TIMEOUT)
            return mark_safe(drawing)  # noqa: S308  (drawn by `draw`, which escapes every text)

        wrapper.uncached = draw
        return wrapper

    return decorate


@_kept("svg")
def lineage_svg(
    lineage: Lineage, *, label: str = "", highlight: frozenset[int] = frozenset()
) -> SafeString:
    """`highlight`: ids drawn as a marked branch (the evolution view: the fittest lines)."""
    label = label or gettext("Lineage")
    named = ngettext(
        "{label}: {count} solution", "{label}: {count} solutions", lineage.size
    ).format(label=label, count=lineage.size)
    root, rows = _layout(lineage)
    boxes = list(_walk(root))
    depth = max(b.depth for b in boxes)
    width = PAD * 2 + depth * COL_W + NODE_W
    height = PAD * 2 + max(rows, 1) * ROW_H - (ROW_H - NODE_H)
    rtl = get_language_bidi()
    if rtl:  # mirrored: generations right to left
        for box in boxes:
            box.x = width - box.x - NODE_W
    parts = [
        f'<svg class="lineage-svg" xmlns="http://www.w3.org/2000/svg" role="group" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f'{' direction="rtl"' if rtl else ""} aria-label="{escape(named)}">'
    ]
    for box in boxes:
        for child in box.children:
            # From the parent's trailing edge to the child's leading edge.
            x1, y1 = (box.x if rtl else box.x + NODE_W), box.y + NODE_H / 2
            x2, y2 = (child.x + NODE_W if rtl else child.x), child.y + NODE_H / 2
            mid = (x1 + x2) / 2
            marked = child.node is not None and {box.node.id, child.node.id} <= highlight
            edge = "lineage-edge fittest" if marked else "lineage-edge"
            parts.append(
                f'<path class="{edge}" d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} '
                f'{mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"/>'
            )
    for box in boxes:
        parts.append(_draw(box, lineage.current_id, highlight, rtl=rtl))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every user text above is escaped)


@_kept("list")
def lineage_list(lineage: Lineage, *, highlight: frozenset[int] = frozenset()) -> SafeString:
    """The same boxes as `lineage_svg` draws, as nested lists of links: the tree's text version,
    which screen readers and keyboards follow (parent, then its children, one level deeper)."""
    root, _ = _layout(lineage)

    def item(box: _Box) -> str:
        if box.node is None:
            label = _folded(box, drawn=False)
            inner = f'<span class="muted">{escape(label)}</span>'
        elif not box.node.visible:
            label = gettext("A private solution, generation {generation}").format(
                generation=box.node.generation
            )
            inner = f'<span class="muted">{escape(label)}</span>'
        else:
            node = box.node
            current = ' aria-current="page"' if node.id == lineage.current_id else ""
            notes = []
            if node.status == "withdrawn":
                notes.append(gettext("withdrawn"))
            if node.id in highlight:
                notes.append(gettext("fittest line"))
            byline = gettext("by {author}, generation {generation}").format(
                author=node.author, generation=node.generation
            )
            if notes:
                byline = gettext("{text} ({notes})").format(text=byline, notes=", ".join(notes))
            inner = (
                f'<a href="{escape(node.url)}"{current}>{escape(node.title)}</a> '
                f'<span class="muted">{escape(byline)}</span>'
            )
        if box.children:
            inner += "<ul>" + "".join(item(child) for child in box.children) + "</ul>"
        return f"<li>{inner}</li>"

    return mark_safe(f'<ul class="lineage-list-tree">{item(root)}</ul>')  # noqa: S308


def _folded(box: _Box, *, drawn: bool) -> str:
    """The box standing for solutions left out: deeper generations, or more siblings."""
    count = box.hidden
    if box.kind == "deeper":
        if drawn:
            text = ngettext("+{count} deeper", "+{count} deeper", count)
        else:
            text = ngettext("+{count} deeper (not drawn)", "+{count} deeper (not drawn)", count)
    elif drawn:
        text = ngettext("+{count} more", "+{count} more", count)
    else:
        text = ngettext("+{count} more (not drawn)", "+{count} more (not drawn)", count)
    return text.format(count=count)


def _draw(
    box: _Box, current_id: int | None, highlight: frozenset[int] = frozenset(), *, rtl: bool = False
) -> str:
    x, y = box.x, box.y
    # Where a line of text starts: 12px inside the box's leading edge (the right one in RTL,
    # where `direction="rtl"` makes text-anchor's start the text's right end).
    tx = x + NODE_W - 12 if rtl else x + 12
    if box.node is None:
        text = _folded(box, drawn=True)
        return (
            f'<g class="lineage-node lineage-folded"><rect x="{x:.0f}" y="{y:.0f}" '
            f'width="{NODE_W}" height="{NODE_H}" rx="8"/>'
            f'<text x="{tx:.0f}" y="{y + 28:.0f}">{escape(text)}</text></g>'
        )
    node = box.node
    classes = ["lineage-node", f"status-{node.status}"]
    if node.id == current_id:
        classes.append("current")
    if node.id in highlight:
        classes.append("fittest")
    if not node.visible:
        classes.append("private")
        private = gettext("A private solution · gen {generation}").format(
            generation=node.generation
        )
        return (
            f'<g class="{" ".join(classes)}"><rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" '
            f'height="{NODE_H}" rx="8"/><text x="{tx:.0f}" y="{y + 28:.0f}">'
            f"{escape(private)}</text></g>"
        )
    title = escape(_fit(node.title, font_px=12.5))
    meta = escape(
        _fit(
            gettext("{author} · gen {generation}").format(
                author=node.author, generation=node.generation
            ),
            font_px=11,
        )
    )
    if node.status == "withdrawn":
        tooltip = gettext("{title} by {author}, generation {generation} (withdrawn)")
    else:
        tooltip = gettext("{title} by {author}, generation {generation}")
    tooltip = escape(
        tooltip.format(title=node.title, author=node.author, generation=node.generation)
    )
    return (
        f'<a href="{escape(node.url)}" class="{" ".join(classes)}">'
        f"<title>{tooltip}</title>"
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="8"/>'
        f'<text class="lineage-title" x="{tx:.0f}" y="{y + 19:.0f}">{title}</text>'
        f'<text class="lineage-meta" x="{tx:.0f}" y="{y + 36:.0f}">{meta}</text></a>'
    )
