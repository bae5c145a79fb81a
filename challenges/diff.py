"""Side-by-side diffs with word-level highlighting, built on difflib.

`side_by_side(old, new)` returns rows; each row has the old and new line (or None) and, for
changed lines, the words that were removed or added. Templates render the segments; the text is
escaped there like any other user text."""

import difflib
import re
from dataclasses import dataclass, field

WORD = re.compile(r"\s+|\w+|[^\w\s]")


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


def _word_diff(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    a, b = WORD.findall(old), WORD.findall(new)
    left: list[Segment] = []
    right: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            left.append(Segment("".join(a[i1:i2])))
            right.append(Segment("".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(Segment("".join(a[i1:i2]), changed=True))
        if j2 > j1:
            right.append(Segment("".join(b[j1:j2]), changed=True))
    return left, right


def _context_rows(
    a: list[str], i1: int, j1: int, length: int, *, first: bool, last: bool, context: int
) -> list[DiffRow]:
    """Unchanged lines around changes: `context` lines on each side, the rest collapsed."""
    keep_head = 0 if first else context
    keep_tail = 0 if last else context
    if length <= keep_head + keep_tail + 1:
        return [_equal(a, i1 + k, j1 + k) for k in range(length)]
    rows = [_equal(a, i1 + k, j1 + k) for k in range(keep_head)]
    rows.append(DiffRow(kind="skip", skipped=length - keep_head - keep_tail))
    rows.extend(_equal(a, i1 + k, j1 + k) for k in range(length - keep_tail, length))
    return rows


def side_by_side(old: str, new: str, *, context: int = 3) -> list[DiffRow]:
    """Rows of a side-by-side diff of two texts, line by line; unchanged stretches are cut to
    `context` lines around each change. Identical texts give no rows."""
    a, b = old.splitlines(), new.splitlines()
    if a == b:
        return []
    rows: list[DiffRow] = []
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            rows.extend(
                _context_rows(
                    a, i1, j1, i2 - i1, first=index == 0, last=index == len(opcodes) - 1,
                    context=context,
                )
            )  # fmt: skip
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            if i < i2 and j < j2:
                left, right = _word_diff(a[i], b[j])
                rows.append(DiffRow("replace", i + 1, j + 1, left, right))
            elif i < i2:
                rows.append(DiffRow("delete", i + 1, None, [Segment(a[i], True)], []))
            else:
                rows.append(DiffRow("insert", None, j + 1, [], [Segment(b[j], True)]))
    return rows


def _equal(lines: list[str], i: int, j: int) -> DiffRow:
    segment = [Segment(lines[i])]
    return DiffRow("equal", i + 1, j + 1, segment, list(segment))


def diff_stats(rows: list[DiffRow]) -> dict[str, int]:
    added = sum(1 for r in rows if r.kind in {"insert", "replace"})
    removed = sum(1 for r in rows if r.kind in {"delete", "replace"})
    return {"added": added, "removed": removed}
