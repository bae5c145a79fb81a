"""Side-by-side diffs with word-level highlighting, built on difflib.

`side_by_side(old, new)` returns rows; each row has the old and new line (or None) and, for
changed lines, the words that were removed or added. Templates render the segments; the text is
escaped there like any other user text.

Past MAX_CHANGED_ROWS changed lines the answer is one "too_large" row holding both texts whole:
such a diff would be no easier to read than the two texts, and a page of tens of thousands of
rows is slow to build, send and render."""

import difflib
import re
from dataclasses import dataclass, field
from itertools import groupby

# Chinese and Japanese are written without spaces between words: each ideograph or kana is a
# word of its own, so one changed character is highlighted, not the whole sentence (issue 22).
# Other scripts split at spaces and punctuation. (Thai, Lao, Khmer and Myanmar are unspaced
# too, but their vowel signs are separate characters: they would need grapheme clusters.)
UNSPACED = (
    "\u3005\u3040-\u30ff\u31f0-\u31ff"  # 々, Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\uff66-\uff9f"  # half-width Katakana
    "\U00020000-\U0003134f"  # CJK ideographs, extensions B to H
)
WORD = re.compile(rf"\s+|[{UNSPACED}]|(?:(?![{UNSPACED}])\w)+|[^\w\s]")

# difflib's alignment takes roughly cubic time on repetitive input, and both texts come from
# members: a page must not hang on a crafted revision. Work is counted in cells (items of one
# side times items of the other) of what lies between the common head and tail: exact alignment
# up to EXACT_CELLS, difflib's popularity heuristic up to HEURISTIC_CELLS, and beyond that the
# middle is shown as one replaced block. Highlighting words shares WORD_CELLS across one diff.
EXACT_CELLS = 40_000  # about 200 x 200 items: a few hundredths of a second at worst
HEURISTIC_CELLS = 4_000_000
WORD_CELLS = 500_000
# More changed lines than this and the texts are shown whole, side by side (see above).
MAX_CHANGED_ROWS = 2_000


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool = False


@dataclass
class DiffRow:
    kind: str  # "equal", "replace", "delete", "insert", "skip"
    old_number: int | None = None
    new_number: int | None = None
    old: list[Segment] = field(default_factory=list)
    new: list[Segment] = field(default_factory=list)
    skipped: int = 0

    @property
    def old_text(self) -> str:
        return "".join(s.text for s in self.old)

    @property
    def new_text(self) -> str:
        return "".join(s.text for s in self.new)


def _align(
    a: list[str], b: list[str], *, budget: int
) -> tuple[list[tuple[str, int, int, int, int]], int]:
    """difflib opcodes for two sequences within bounded work (see EXACT_CELLS), and the cells
    spent. The common head and tail are matched directly; a middle bigger than `budget` cells
    is one replaced block."""
    limit = min(len(a), len(b))
    head = 0
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    cells = len(middle_a) * len(middle_b)
    if cells > min(budget, HEURISTIC_CELLS):
        middle, cells = [("replace", 0, len(middle_a), 0, len(middle_b))], 0
    else:
        matcher = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=cells > EXACT_CELLS)
        middle = matcher.get_opcodes()
    opcodes = [("equal", 0, head, 0, head)] if head else []
    opcodes += [(tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in middle]
    if tail:
        opcodes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return opcodes, cells


def _word_diff(old: str, new: str, *, budget: int) -> tuple[list[Segment], list[Segment], int]:
    """Segments of both lines with the changed words marked, and the cells spent on them."""
    a, b = WORD.findall(old), WORD.findall(new)
    left: list[Segment] = []
    right: list[Segment] = []
    opcodes, cells = _align(a, b, budget=budget)
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            left.append(Segment("".join(a[i1:i2])))
            right.append(Segment("".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(Segment("".join(a[i1:i2]), changed=True))
        if j2 > j1:
            right.append(Segment("".join(b[j1:j2]), changed=True))
    return left, right, cells


def _collapse(rows: list[DiffRow], *, context: int) -> list[DiffRow]:
    """Cut every unchanged stretch to `context` lines next to the changes around it; the lines
    in between become one skip row."""
    collapsed: list[DiffRow] = []
    position = 0
    for unchanged, group in groupby(rows, key=lambda row: row.kind == "equal"):
        run = list(group)
        keep_head = 0 if position == 0 else context
        position += len(run)
        keep_tail = 0 if position == len(rows) else context
        if not unchanged or len(run) <= keep_head + keep_tail + 1:
            collapsed.extend(run)
            continue
        collapsed.extend(run[:keep_head])
        collapsed.append(DiffRow(kind="skip", skipped=len(run) - keep_head - keep_tail))
        collapsed.extend(run[len(run) - keep_tail :])
    return collapsed


def side_by_side(old: str, new: str, *, context: int = 3) -> list[DiffRow]:
    """Rows of a side-by-side diff of two texts, line by line; unchanged stretches are cut to
    `context` lines around each change. Identical texts give no rows."""
    a, b = old.splitlines(), new.splitlines()
    if a == b:
        return []
    rows: list[DiffRow] = []
    word_cells = WORD_CELLS
    opcodes, _ = _align(a, b, budget=HEURISTIC_CELLS)
    changed = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in opcodes if tag != "equal")
    if changed > MAX_CHANGED_ROWS:
        return [too_large(old, new)]
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            rows.extend(_equal(a, i1 + k, j1 + k) for k in range(i2 - i1))
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            if i < i2 and j < j2 and a[i] == b[j]:  # lines paired by a coarse alignment
                rows.append(_equal(a, i, j))
            elif i < i2 and j < j2:
                left, right, spent = _word_diff(a[i], b[j], budget=word_cells)
                word_cells -= spent
                rows.append(DiffRow("replace", i + 1, j + 1, left, right))
            elif i < i2:
                rows.append(DiffRow("delete", i + 1, None, [Segment(a[i], True)], []))
            else:
                rows.append(DiffRow("insert", None, j + 1, [], [Segment(b[j], True)]))
    return _collapse(rows, context=context)


def too_large(old: str, new: str) -> DiffRow:
    """The one row of a diff too large to show line by line: both texts, whole."""
    return DiffRow("too_large", None, None, [Segment(old, True)], [Segment(new, True)])


def _equal(lines: list[str], i: int, j: int) -> DiffRow:
    segment = [Segment(lines[i])]
    return DiffRow("equal", i + 1, j + 1, segment, list(segment))


def diff_stats(rows: list[DiffRow]) -> dict[str, int]:
    added = sum(1 for r in rows if r.kind in {"insert", "replace"})
    removed = sum(1 for r in rows if r.kind in {"delete", "replace"})
    for row in rows:
        if row.kind == "too_large":  # every line of both texts counts as changed
            added += len(row.new_text.splitlines())
            removed += len(row.old_text.splitlines())
    return {"added": added, "removed": removed}
