"""Where a purse's money went along the lineage, drawn as server-rendered SVG: ancestors at the
top, winners below (a lineage is deeper than it is wide, so it fits a phone); each box is the
solution, its author and what that author received for it. The page shows the same rows as a
table (the accessible twin). No script, no inline style: classes only (site.css's lineage
classes, marketplace.css's money ones)."""

from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .money import format_money

NODE_W, NODE_H = 196, 58
COL_W, ROW_H = 212, 84
PAD = 12


@dataclass
class MoneyNode:
    id: int
    title: str
    author: str
    url: str
    parent_id: int | None
    amount: int = 0
    role: str = "step"  # winner, ancestor (paid), step (passed over: not paid)
    children: list["MoneyNode"] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0


def _truncate(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def money(amount: int, currency: str) -> str:
    return format_money(amount, currency)


def _layout(roots: list[MoneyNode]) -> tuple[int, int]:
    """Rows by depth, one column per leaf, a parent centred above its children."""
    column = 0
    depth_max = 0

    def place(node: MoneyNode, depth: int) -> None:
        nonlocal column, depth_max
        depth_max = max(depth_max, depth)
        node.y = PAD + depth * ROW_H
        if not node.children:
            node.x = PAD + column * COL_W
            column += 1
            return
        for child in node.children:
            place(child, depth + 1)
        node.x = (node.children[0].x + node.children[-1].x) / 2

    for root in roots:
        place(root, 0)
    return depth_max, column


def money_tree_svg(nodes: dict[int, MoneyNode], *, currency: str, label: str) -> SafeString:
    for node in nodes.values():
        node.children = []
    roots = []
    for node in sorted(nodes.values(), key=lambda n: n.id):
        parent = nodes.get(node.parent_id) if node.parent_id else None
        (parent.children if parent else roots).append(node)
    depth, columns = _layout(roots)
    width = PAD * 2 + max(columns, 1) * COL_W - (COL_W - NODE_W)
    height = PAD * 2 + depth * ROW_H + NODE_H
    paid = sum(n.amount for n in nodes.values())
    summary = ngettext(
        "{label}: {amount} to {count} solution",
        "{label}: {amount} to {count} solutions",
        len(nodes),
    ).format(label=label, amount=money(paid, currency), count=len(nodes))
    roles = {
        "winner": _("winner keeps {amount}"),
        "ancestor": _("lineage share {amount}"),
        "step": _("passed over {amount}"),
    }
    parts = [
        f'<svg class="lineage-svg money-tree" xmlns="http://www.w3.org/2000/svg" role="group" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(summary)}">'
    ]
    for node in nodes.values():
        for child in node.children:
            x1, y1 = node.x + NODE_W / 2, node.y + NODE_H
            x2, y2 = child.x + NODE_W / 2, child.y
            mid = (y1 + y2) / 2
            parts.append(
                f'<path class="lineage-edge" d="M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} '
                f'{x2:.0f},{mid:.0f} {x2:.0f},{y2:.0f}"/>'
            )
    for node in nodes.values():
        amount = money(node.amount, currency) if node.amount else _("not paid")
        tooltip = escape(
            _("{title} by {author}: {what}").format(
                title=node.title, author=node.author, what=roles[node.role].format(amount=amount)
            )
        )
        parts.append(
            f'<a href="{escape(node.url)}" class="lineage-node money-{node.role}">'
            f"<title>{tooltip}</title>"
            f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="8"/>'
            f'<text class="lineage-title" x="{node.x + 12:.0f}" y="{node.y + 18:.0f}">'
            f"{escape(_truncate(node.title, 24))}</text>"
            f'<text class="lineage-meta" x="{node.x + 12:.0f}" y="{node.y + 34:.0f}">'
            f"{escape(_truncate(node.author, 30))}</text>"
            f'<text class="money-amount" x="{node.x + 12:.0f}" y="{node.y + 50:.0f}">'
            f"{escape(amount)}</text></a>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every user text above is escaped)
