"""One search over challenges, solutions and members.

PostgreSQL: weighted full-text search over the stored `search_vector` columns (title A, summary
or revision message B, body C; kept up to date by triggers, see migration 0002), ranked with
SearchRank, with SearchHeadline snippets. SQLite: every word must appear somewhere; the rank
weighs a title match above a summary match above a body match, like the vector's weights.

At a real community's size a common word matches tens of thousands of solutions; ranking them
all (and sorting their wide rows) is what made search slow. So each kind ranks a bounded
candidate set: the newest CANDIDATES matches the searcher may see (found through the GIN index or
the primary key, whichever the planner prefers), then the rank orders those and only the best
`limit` rows are loaded with their snippets. A member's candidates come from two parts: what
anyone may see, searched by the very query a visitor's search runs, and what only they may see
(their private challenges, their hidden rows), a small set (_parts). Both databases take the
same path, so they agree on which rows can be found; an older match of a very common word is
found by adding a word.

Snippets are safe HTML built here: the text is escaped first and only then are the matches
wrapped in <mark>, so nothing written in a challenge or a solution can inject markup."""

import re
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, FloatField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Concat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from peerhub import languages
from peerhub.pagecache import Fragments
from peerhub.selectors import members_public

from . import permissions
from .models import Challenge, Solution

KINDS = ("challenge", "solution", "member")
MAX_TERMS = 8
CANDIDATES = 400  # newest matches ranked per kind
SNIPPET_CHARS = 220
# Each text's vector is built in its own language's configuration plus `simple` (the words as
# written; migration 0017); a query is parsed in every shipped language and in `simple`, so a
# Spanish text is found by a Spanish inflection whatever the searcher's page language, and by
# its exact words from anywhere. The searcher's language comes first and shapes the snippets.
SIMPLE = "simple"
# Private-use characters mark the matches in PostgreSQL headlines until they become <mark>.
START, STOP = "\ue000", "\ue001"
WEIGHTS = {"title": 1.0, "summary": 0.4, "body": 0.2}  # PostgreSQL's default A, B, C weights


@dataclass
class SearchHit:
    kind: str
    id: int
    title: str
    url: str
    snippet: SafeString
    rank: float
    detail: str  # a line of context: the challenge's status, the solution's author, …


def _terms(q: str) -> list[str]:
    words = re.findall(r"\w[\w'-]*", q)
    return [w for w in words if w.lower() not in {"or", "and"}][:MAX_TERMS]


_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_MARKS = re.compile(
    r"(^|\s)(#{1,6}|>|[-*+]|\d+\.)\s+|[*`~]+|(?<!\w)_+|_+(?!\w)", re.MULTILINE
)


def plain(text: str) -> str:
    """Markdown source as plain words for a snippet: links keep their text, marks go."""
    text = _MARKDOWN_LINK.sub(r"\1", text or "")
    return " ".join(_MARKDOWN_MARKS.sub(r"\1", text).split())


def highlight(text: str, terms: list[str], *, width: int = SNIPPET_CHARS) -> SafeString:
    """A window of `text` around the first match, escaped, with the matches in <mark>."""
    text = plain(text)
    if not terms:
        return mark_safe(escape(text[:width]))  # noqa: S308  (escaped)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    first = pattern.search(text)
    start = max(0, first.start() - 60) if first else 0
    window = text[start : start + width]
    pieces, last = [], 0
    for match in pattern.finditer(window):
        pieces.append(escape(window[last : match.start()]))
        pieces.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    pieces.append(escape(window[last:]))
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(text) else ""
    return mark_safe(prefix + "".join(pieces) + suffix)  # noqa: S308  (every piece escaped)


def safe_headline(headline: str) -> SafeString:
    """A PostgreSQL headline made safe: escape everything, then turn the markers into <mark>.
    Unbalanced markers (a document containing the marker characters) lose their highlighting."""
    headline = plain(headline)
    escaped = escape(headline)
    if escaped.count(START) != escaped.count(STOP):
        return mark_safe(escape(headline.replace(START, "").replace(STOP, "")))  # noqa: S308
    return mark_safe(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S308


def _use_full_text() -> bool:
    return connection.vendor == "postgresql"


def _configs() -> list[str]:
    """The searcher's language's configuration first, then the other languages', then simple."""
    first = languages.ts_config(languages.reader_language())
    others = [languages.ts_config(code) for code in languages.codes()]
    return list(dict.fromkeys([first, *others, SIMPLE]))


def _query(q: str) -> SearchQuery:
    configs = _configs()
    query = SearchQuery(q, config=configs[0], search_type="websearch")
    for config in configs[1:]:
        query = query | SearchQuery(q, config=config, search_type="websearch")
    return query


def _headline(expression, query: SearchQuery) -> SearchHeadline:
    return SearchHeadline(
        expression,
        query,
        config=_configs()[0],
        start_sel=START,
        stop_sel=STOP,
        max_words=35,
        min_words=15,
        max_fragments=2,
        fragment_delimiter=" … ",
    )


def _text_rank(terms: list[str], fields: dict[str, list[str]]):
    """SQLite's rank: per word, the weight of the best field it appears in."""
    total = Value(0.0, output_field=FloatField())
    for term in terms:
        whens = []
        for weight_name in ("title", "summary", "body"):
            lookups = fields.get(weight_name, [])
            if lookups:
                condition = Q()
                for lookup in lookups:
                    condition |= Q(**{f"{lookup}__icontains": term})
                whens.append(When(condition, then=Value(WEIGHTS[weight_name])))
        total = total + Case(*whens, default=Value(0.0), output_field=FloatField())
    return total


def _all_terms_q(terms: list[str], lookups: list[str]) -> Q:
    condition = Q()
    for term in terms:
        anywhere = Q()
        for lookup in lookups:
            anywhere |= Q(**{f"{lookup}__icontains": term})
        condition &= anywhere
    return condition


CHALLENGE_FIELDS = {"title": ["title"], "summary": ["summary"], "body": ["problem", "context"]}
SOLUTION_FIELDS = {
    "title": ["title"],
    "summary": ["current_revision__message"],
    "body": ["current_revision__body"],
}


def _ranked(queryset, *, parts, q, terms, fields, headline_of, text_of, limit):
    """The best `limit` rows of `queryset` for the query among the newest CANDIDATES matches of
    each of `parts`, with a function giving each row's snippet: PostgreSQL's full text (the
    stored vector, its rank and an escaped headline), or elsewhere every term matched in some
    field, ranked title before summary before body. `queryset` is what the searcher may see and
    `parts` are querysets within it that together hold all of it (_parts): what anyone may see,
    searched exactly as for a visitor (through the GIN index), and what only this member may
    see, a small set."""
    if _use_full_text():
        query = _query(q)
        rank = SearchRank(F("search_vector"), query)

        def matching(part):
            return part.filter(search_vector=query)

    else:
        lookups = [f for names in fields.values() for f in names]
        rank = _text_rank(terms, fields)

        def matching(part):
            return part.filter(_all_terms_q(terms, lookups))

    # Narrow rows only until the last step: ids of the newest matches, then ids of the best.
    # The best ids are read first: as a subquery, the planner cannot tell they are few and
    # joins every visible row to test them (a member's search read all 48,000 solutions).
    model = queryset.model
    if len(parts) > 1 and connection.features.supports_slicing_ordering_in_compound:
        # One UNION (PostgreSQL) of each part's newest matches ranked where they are read:
        # each part keeps its own plan, and no row is read twice (meeting the union's ids with
        # their rows again, the planner hashed every row of the table).
        newest = [
            matching(part).annotate(rank=rank).order_by("-pk").values_list("pk", "rank")
            for part in parts
        ]
        best_rows = newest[0][:CANDIDATES].union(*(n[:CANDIDATES] for n in newest[1:]))
        best = [pk for pk, _rank in best_rows.order_by("-rank", "-pk")[:limit]]
    else:
        newest = [matching(part).order_by("-pk").values("pk")[:CANDIDATES] for part in parts]
        candidates = Q(pk__in=newest[0])
        for ids in newest[1:]:
            candidates |= Q(pk__in=ids)
        best = list(
            model._default_manager.filter(candidates)
            .annotate(rank=rank)
            .order_by("-rank", "-pk")
            .values_list("pk", flat=True)[:limit]
        )
    rows = queryset.filter(pk__in=best).annotate(rank=rank).order_by("-rank", "-pk")
    if _use_full_text():
        rows = rows.annotate(headline=_headline(headline_of, query))
        return rows, lambda row: safe_headline(row.headline)
    return rows, lambda row: highlight(text_of(row), terms)


def _parts(user, *, anyone: QuerySet, visible: QuerySet, own: Q | None = None) -> list[QuerySet]:
    """Where search looks for `user`'s candidates. `anyone` is what a visitor may see, built
    exactly as for a visitor, so that the database plans a member's search as it plans a
    visitor's (through the GIN index). For a member, the rest of `visible` (what they may see,
    as permissions says) is a second, small part: the rows in challenges that only some may see
    (their private and draft challenges; all of them for staff), and `own` (their rows that
    moderation hid, which only they still see). Both parts lie within `visible` and together
    hold all of it: a member finds everything they may see, and nothing else."""
    if not getattr(user, "is_authenticated", False):
        return [anyone]
    # Read first, as a list (mostly empty): as a subquery the planner cannot tell how few
    # challenges it names and walks every row to test them.
    members_only = list(
        permissions.challenges_visible_to(user)
        .filter(permissions.beyond_public_q())
        .values_list("pk", flat=True)
    )
    key = "pk" if visible.model is Challenge else "challenge"
    rest = Q(**{f"{key}__in": members_only}) if members_only else None
    if own is not None:
        rest = own if rest is None else rest | own
    if rest is None:
        return [anyone]
    return [anyone, visible.filter(rest)]


def search_challenges(
    *, user, q: str, status: str = "", value: str = "", limit: int = 50
) -> list[SearchHit]:
    def narrow(challenges):
        challenges = challenges.exclude(status=Challenge.Status.DRAFT)
        if status:
            challenges = challenges.filter(status=status)
        if value:
            challenges = challenges.filter(values__slug=value)
        return challenges

    challenges: QuerySet[Challenge] = narrow(permissions.challenges_visible_to(user))
    terms = _terms(q)
    if not terms:
        return []
    rows, snippet = _ranked(
        challenges,
        parts=_parts(user, anyone=narrow(permissions.challenges_public()), visible=challenges),
        q=q,
        terms=terms,
        fields=CHALLENGE_FIELDS,
        headline_of=Concat("summary", Value(" "), "problem", output_field=TextField()),
        text_of=lambda c: f"{c.summary} {c.problem}",
        limit=limit,
    )
    return [
        SearchHit(
            kind="challenge",
            id=c.pk,
            title=c.title,
            url=c.get_absolute_url(),
            snippet=snippet(c),
            rank=float(c.rank),
            detail=c.get_status_display(),
        )
        for c in rows
    ]


def search_solutions(
    *, user, q: str, status: str = "", value: str = "", limit: int = 50
) -> list[SearchHit]:
    def narrow(solutions):
        solutions = solutions.filter(status=Solution.Status.PUBLISHED)
        if status:
            solutions = solutions.filter(challenge__status=status)
        if value:
            solutions = solutions.filter(challenge__values__slug=value)
        return solutions

    visible = narrow(permissions.solutions_visible_to(user))
    solutions = visible.select_related("author", "challenge").defer(
        # Only the challenge's title is shown: its long texts stay in the database.
        "search_vector",
        "challenge__search_vector",
        "challenge__problem",
        "challenge__context",
    )
    terms = _terms(q)
    if not terms:
        return []
    own = Q(author=user) if getattr(user, "is_authenticated", False) else None
    rows, snippet = _ranked(
        solutions.select_related("current_revision"),
        parts=_parts(
            user,
            anyone=narrow(permissions.solutions_visible_to(AnonymousUser())),
            visible=visible,
            own=own,
        ),
        q=q,
        terms=terms,
        fields=SOLUTION_FIELDS,
        headline_of=F("current_revision__body"),
        text_of=lambda s: s.current_revision.body,
        limit=limit,
    )
    return [
        SearchHit(
            kind="solution",
            id=s.pk,
            title=s.title,
            url=s.get_absolute_url(),
            snippet=snippet(s),
            rank=float(s.rank),
            detail=gettext("by {author} in “{challenge}”").format(
                author=s.author.name, challenge=s.challenge.title
            ),
        )
        for s in rows
    ]


MEMBER_FIELDS = {"title": ["username", "display_name"], "summary": ["skills"], "body": ["bio"]}


def search_members(*, q: str, limit: int = 50) -> list[SearchHit]:
    """Members match their words as text on every database (trigram GIN indexes make that an
    index search on PostgreSQL, migration peerhub 0006), ranked among the newest matches."""
    terms = _terms(q)
    if not terms:
        return []
    lookups = [f for fields in MEMBER_FIELDS.values() for f in fields]
    members = members_public()
    candidates = (
        members.filter(_all_terms_q(terms, lookups)).order_by("-pk").values("pk")[:CANDIDATES]
    )
    rows = (
        members.filter(pk__in=candidates)
        .annotate(rank=_text_rank(terms, MEMBER_FIELDS))
        .order_by("-rank", "username")[:limit]
    )
    return [
        SearchHit(
            kind="member",
            id=m.pk,
            title=m.name,
            url=m.get_absolute_url(),
            snippet=highlight(f"{m.skills} {m.bio}".strip(), terms),
            rank=float(m.rank),
            detail=f"@{m.username}",
        )
        for m in rows
    ]


def search(
    *,
    user,
    q: str,
    kind: str = "",
    status: str = "",
    value: str = "",
    limit: int = 50,
    kept: Fragments | None = None,
) -> dict[str, list[SearchHit]]:
    """Results per kind, best first. Status and value filter challenges and the solutions in
    them; with either set, members (who have neither) are left out. With `kept` (the page's
    fragments), a member who sees what a visitor sees shares the visitors' answer, kept under
    the same versions as the visitors' cached search page."""
    q = (q or "").strip()[:200]
    if kept is not None and kept.on and q and permissions.sees_as_visitor(user):
        return kept.value(
            "search",
            (q, kind, status, value, limit),
            lambda: _search(AnonymousUser(), q, kind, status, value, limit),
        )
    return _search(user, q, kind, status, value, limit)


def _search(user, q, kind, status, value, limit) -> dict[str, list[SearchHit]]:
    results: dict[str, list[SearchHit]] = {}
    if kind in ("", "challenge"):
        results["challenge"] = search_challenges(
            user=user, q=q, status=status, value=value, limit=limit
        )
    if kind in ("", "solution"):
        results["solution"] = search_solutions(
            user=user, q=q, status=status, value=value, limit=limit
        )
    if kind in ("", "member") and not (status or value):
        results["member"] = search_members(q=q, limit=limit)
    return results
