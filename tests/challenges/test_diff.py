"""Side-by-side diffs with word-level highlighting (challenges.diff)."""

from itertools import pairwise
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from challenges import diff
from challenges.diff import DiffRow, Segment, diff_stats, side_by_side


def changed(segments: list[Segment]) -> list[str]:
    return [s.text for s in segments if s.changed]


def kinds(rows: list[DiffRow]) -> list[str]:
    return [row.kind for row in rows]


def lines(n: int, prefix: str = "line") -> list[str]:
    return [f"{prefix} {i}" for i in range(1, n + 1)]


def test_identical_texts_have_no_rows():
    text = "one\ntwo\nthree"
    assert side_by_side(text, text) == []


def test_a_trailing_newline_is_not_a_change():
    assert side_by_side("one\ntwo", "one\ntwo\n") == []


def test_one_changed_word_highlights_only_that_word():
    [row] = side_by_side("The quick brown fox", "The quick red fox")

    assert (row.kind, row.old_number, row.new_number) == ("replace", 1, 1)
    assert changed(row.old) == ["brown"]
    assert changed(row.new) == ["red"]
    assert row.old_text == "The quick brown fox"
    assert row.new_text == "The quick red fox"


def test_punctuation_and_spacing_are_words_of_their_own():
    [row] = side_by_side("Hello, world", "Hello! world")
    assert (changed(row.old), changed(row.new)) == ([","], ["!"])


def test_an_inserted_line():
    rows = side_by_side("a\nb\nc", "a\nb\nnew\nc")

    assert kinds(rows) == ["equal", "equal", "insert", "equal"]
    insert = rows[2]
    assert (insert.old_number, insert.new_number) == (None, 3)
    assert (insert.old, insert.new_text) == ([], "new")
    assert insert.new[0].changed
    assert [(r.old_number, r.new_number) for r in rows] == [(1, 1), (2, 2), (None, 3), (3, 4)]


def test_a_deleted_line():
    rows = side_by_side("a\ngone\nb", "a\nb")

    assert kinds(rows) == ["equal", "delete", "equal"]
    assert (rows[1].old_number, rows[1].new_number, rows[1].old_text) == (2, None, "gone")
    assert rows[1].new == []


def test_a_replaced_block_of_unequal_length_pairs_lines_then_inserts():
    rows = side_by_side("x\nold\nz", "x\nnew one\nnew two\nz")
    assert kinds(rows) == ["equal", "replace", "insert", "equal"]
    assert [(r.old_number, r.new_number) for r in rows] == [(1, 1), (2, 2), (None, 3), (3, 4)]


def test_long_unchanged_stretches_collapse_into_a_skip_row():
    old = lines(20)
    new = [*old[:10], "changed", *old[11:]]

    rows = side_by_side("\n".join(old), "\n".join(new), context=3)

    assert kinds(rows) == ["skip"] + ["equal"] * 3 + ["replace"] + ["equal"] * 3 + ["skip"]
    assert [r.skipped for r in rows if r.kind == "skip"] == [7, 6]
    assert [r.old_number for r in rows if r.kind != "skip"] == [8, 9, 10, 11, 12, 13, 14]


def test_unchanged_lines_between_two_changes_keep_context_on_both_sides():
    old = lines(30)
    new = list(old)
    new[2], new[27] = "first change", "second change"

    rows = side_by_side("\n".join(old), "\n".join(new), context=2)

    assert kinds(rows) == [
        *["equal"] * 2, "replace", *["equal"] * 2, "skip", *["equal"] * 2, "replace",
        *["equal"] * 2,
    ]  # fmt: skip
    assert rows[5].skipped == 24 - 2 * 2  # lines 4 to 27, less two lines of context each side
    assert [r.old_number for r in rows[3:5] + rows[6:8]] == [4, 5, 26, 27]


def test_a_stretch_just_longer_than_the_context_is_shown_whole():
    old = lines(8)
    new = ["changed", *old[1:]]
    rows = side_by_side("\n".join(old), "\n".join(new), context=3)
    # 7 unchanged lines after the change: 3 of context, then a skip of 4
    assert kinds(rows) == ["replace", "equal", "equal", "equal", "skip"]
    assert rows[-1].skipped == 4

    rows = side_by_side("\n".join(old[:5]), "\n".join(new[:5]), context=3)
    # 4 unchanged lines: hiding one line behind a skip row would save nothing
    assert kinds(rows) == ["replace", "equal", "equal", "equal", "equal"]


def test_html_looking_text_stays_plain_text():
    old = "<p>Hello</p>"
    new = '<script>alert("x")</script> & <b>bold</b>'

    [row] = side_by_side(old, new)

    assert row.old_text == old
    assert row.new_text == new
    assert all(isinstance(s.text, str) and "&lt;" not in s.text for s in row.new)
    assert "script" in changed(row.new)


def test_diff_stats_count_added_and_removed_lines():
    rows = side_by_side("a\nb\nc", "a\nB\nc\nd")
    assert diff_stats(rows) == {"added": 2, "removed": 1}


# --- Bounded work ----------------------------------------------------------------------------
# difflib is roughly cubic on repetitive input; past a budget the diff gets coarser, never slow.
# The budgets are shrunk here so that small texts take the coarse paths.

NO_BUDGET = {"EXACT_CELLS": 0, "HEURISTIC_CELLS": 0, "WORD_CELLS": 0}
FULL_BUDGET = {name: getattr(diff, name) for name in NO_BUDGET}


def test_past_the_word_budget_the_changed_middle_of_a_line_is_marked_whole():
    old, new = "keep a b c d e keep", "keep a X c Y e keep"
    [row] = side_by_side(old, new)
    assert (changed(row.old), changed(row.new)) == (["b", "d"], ["X", "Y"])

    with mock.patch.multiple(diff, **NO_BUDGET):
        [row] = side_by_side(old, new)

    assert (changed(row.old), changed(row.new)) == (["b c d"], ["X c Y"])
    assert (row.old_text, row.new_text) == (old, new)


def test_the_word_budget_is_shared_by_the_whole_diff():
    old = "\n".join(f"w{i} same x" for i in range(4))
    new = "\n".join(f"v{i} same y" for i in range(4))
    with mock.patch.object(diff, "WORD_CELLS", 2 * 5 * 5):  # two lines of five tokens each
        rows = side_by_side(old, new)
    assert [changed(r.new) for r in rows] == [
        ["v0", "y"],
        ["v1", "y"],
        ["v2 same y"],
        ["v3 same y"],
    ]


def test_past_the_line_budget_unchanged_lines_still_collapse():
    old = lines(40)
    new = list(old)
    new[5], new[30] = "first change", "second change"

    with mock.patch.multiple(diff, **NO_BUDGET):
        rows = side_by_side("\n".join(old), "\n".join(new))

    assert kinds(rows).count("replace") == 2
    assert [r.skipped for r in rows if r.kind == "skip"] == [2, 18, 6]


# --- Properties ------------------------------------------------------------------------------

LINE = st.text(alphabet=st.sampled_from("ab \t\r<>&é-."), max_size=12)
TEXT_LINES = st.lists(LINE, max_size=25)


def _numbers_increase(numbers: list[int]) -> bool:
    return all(a < b for a, b in pairwise(numbers))


@pytest.mark.parametrize("budgets", [FULL_BUDGET, NO_BUDGET], ids=["full", "coarse"])
@settings(max_examples=200, deadline=None)
@given(old_lines=TEXT_LINES, new_lines=TEXT_LINES, context=st.integers(min_value=0, max_value=4))
def test_rows_account_for_every_line_in_order(budgets, old_lines, new_lines, context):
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    a, b = old.splitlines(), new.splitlines()

    with mock.patch.multiple(diff, **budgets):
        rows = side_by_side(old, new, context=context)

    if a == b:
        assert rows == []
        return
    old_numbers = [r.old_number for r in rows if r.old_number is not None]
    new_numbers = [r.new_number for r in rows if r.new_number is not None]
    assert _numbers_increase(old_numbers)
    assert _numbers_increase(new_numbers)
    skipped = sum(r.skipped for r in rows if r.kind == "skip")
    assert len(old_numbers) + skipped == len(a), "every old line is shown or skipped"
    assert len(new_numbers) + skipped == len(b), "every new line is shown or skipped"
    for row in rows:
        if row.kind == "skip":
            assert (row.old, row.new, row.old_number, row.new_number) == ([], [], None, None)
            assert row.skipped > 0
            continue
        if row.old_number is not None:
            assert row.old_text == a[row.old_number - 1]
        if row.new_number is not None:
            assert row.new_text == b[row.new_number - 1]
        if row.kind == "equal":
            assert row.old_text == row.new_text
            assert not any(s.changed for s in row.old + row.new)
    unchanged_new = {r.new_number for r in rows if r.kind == "equal"}
    changed_new = {r.new_number for r in rows if r.kind in {"insert", "replace"}}
    for number, line in enumerate(b, start=1):
        if line not in a:
            assert number in changed_new, f"new line {number} {line!r} is shown as changed"
    assert not changed_new & unchanged_new


# --- Huge inputs: bounded work, whatever the texts ----------------------------------------------
# Work is counted, not timed: every SequenceMatcher built is recorded with its cells (items of
# one side times items of the other), and the answer's size is bounded by MAX_CHANGED_ROWS.

BODY = 100_000  # the largest revision body (peerhub.limits.SOLUTION_BODY)


class CountingMatcher(diff.difflib.SequenceMatcher):
    cells: list[int] = []

    def __init__(self, isjunk=None, a="", b="", autojunk=True):
        CountingMatcher.cells.append(len(a) * len(b))
        super().__init__(isjunk, a, b, autojunk)


@pytest.fixture
def matcher_work():
    CountingMatcher.cells = []
    with mock.patch.object(diff.difflib, "SequenceMatcher", CountingMatcher):
        yield CountingMatcher.cells


def sized(make_line, size: int = BODY) -> str:
    text, i = "", 0
    while len(text) < size:
        text += make_line(i) + "\n"
        i += 1
    return text[:size]


HUGE = {
    "every line differs": (sized(lambda i: f"old line {i}"), sized(lambda i: f"new line {i}")),
    "repetitive lines swapped": ("a\nb\n" * (BODY // 4), "b\na\n" * (BODY // 4)),
    "one long line each": ("a " * (BODY // 2), "b " * (BODY // 2)),
    "long repetitive words": ("ab " * (BODY // 3), "ba " * (BODY // 3)),
}


@pytest.mark.parametrize("name", HUGE)
def test_two_100000_character_texts_cost_bounded_work(name, matcher_work):
    old, new = HUGE[name]
    assert len(old) <= BODY and len(new) <= BODY
    rows = side_by_side(old, new)
    assert sum(matcher_work) <= diff.HEURISTIC_CELLS + diff.WORD_CELLS
    assert all(cells <= diff.HEURISTIC_CELLS for cells in matcher_work)
    shown = [r for r in rows if r.kind != "skip"]
    assert 1 <= len(shown) <= diff.MAX_CHANGED_ROWS + 2 * 3  # plus context lines


def test_past_max_changed_rows_both_texts_are_shown_whole(matcher_work):
    old, new = HUGE["every line differs"]
    [row] = side_by_side(old, new)
    assert row.kind == "too_large"
    assert (row.old_text, row.new_text) == (old, new)
    assert matcher_work == []  # no alignment was even tried: the middle is over the budget
    assert diff_stats([row]) == {"added": len(new.splitlines()), "removed": len(old.splitlines())}


def test_up_to_max_changed_rows_the_diff_is_line_by_line():
    old = "\n".join(lines(50))
    new = "\n".join(lines(50, prefix="row"))
    with mock.patch.object(diff, "MAX_CHANGED_ROWS", 50):
        assert kinds(side_by_side(old, new)) == ["replace"] * 50
    with mock.patch.object(diff, "MAX_CHANGED_ROWS", 49):
        assert kinds(side_by_side(old, new)) == ["too_large"]


@pytest.mark.django_db
def test_the_diff_page_and_api_answer_two_100000_character_revisions(client, matcher_work):
    from challenges import services
    from tests.factories import make_solution

    old, new = HUGE["every line differs"]
    solution = make_solution(body=old)
    services.solution_revise(solution=solution, by=solution.author, title=solution.title, body=new)

    page = client.get(f"/solutions/{solution.pk}/diff/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Too large to compare line by line" in html
    assert "new line 7000" in html and "old line 7000" in html

    api = client.get(f"/api/solutions/{solution.pk}/diff/")
    assert api.status_code == 200
    assert [row["kind"] for row in api.json()["rows"]] == ["too_large"]
    assert matcher_work == []


@pytest.mark.django_db
def test_a_hidden_revisions_text_stays_out_of_the_diff_page_and_api(client):
    from challenges import services
    from challenges.models import Revision
    from challenges.services.moderation import revision_set_moderation_hidden
    from tests.factories import UserFactory, make_solution

    solution = make_solution(body="A fine filter.")
    services.solution_revise(
        solution=solution, by=solution.author, title=solution.title, body="Buy cheap pills now"
    )
    revision_set_moderation_hidden(
        Revision.objects.get(solution=solution, number=2), "Hidden: flagged as spam."
    )
    for viewer in (None, UserFactory()):
        if viewer:
            client.force_login(viewer)
        html = client.get(f"/solutions/{solution.pk}/diff/").content.decode()
        assert "Hidden: flagged as spam." in html and "pills" not in html
        api = client.get(f"/api/solutions/{solution.pk}/diff/").json()
        assert api["hidden_reason"] == "Hidden: flagged as spam."
        assert api["rows"] == [] and api["files"] == []
    # The author still reads it, to edit or appeal.
    client.force_login(solution.author)
    assert "pills" in client.get(f"/solutions/{solution.pk}/diff/").content.decode()
    assert client.get(f"/api/solutions/{solution.pk}/diff/").json()["hidden_reason"] == ""


# --- Unspaced scripts (issue 22) -----------------------------------------------------------------


def test_a_changed_chinese_character_is_highlighted_not_the_whole_sentence():
    [row] = side_by_side("今天的水很干净。", "今天的水很清净。")
    assert (changed(row.old), changed(row.new)) == (["干"], ["清"])
    assert row.new_text == "今天的水很清净。"


def test_japanese_kana_and_latin_words_beside_them_split_apart():
    [row] = side_by_side("フィルターはsandです", "フィルターはgravelです")
    assert (changed(row.old), changed(row.new)) == (["sand"], ["gravel"])
    [row] = side_by_side("水をろ過する", "水をろ過した")
    assert (changed(row.old), changed(row.new)) == (["する"], ["した"])
