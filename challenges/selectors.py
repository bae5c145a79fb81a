"""Reads for challenges: lists with filters and sorts, detail pages, lineages and diffs. Every
function takes the viewing member and returns only what they may see."""

from dataclasses import dataclass, field

from django.core.paginator import Page
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from peerhub.following import follow_tally_annotations
from peerhub.hooks import collect
from peerhub.inputs import parse_id
from peerhub.mentions import mention_suggestions
from peerhub.models import User
from peerhub.models import Value as ManifestoValue
from peerhub.paging import CountedPaginator
from peerhub.related_rows import attach_related, related_rows

from . import permissions, translations
from .diff import DiffRow, side_by_side
from .models import (
    Challenge,
    ChallengeProposal,
    Comment,
    Criterion,
    Revision,
    SelectionEntry,
    SelectionRound,
    Solution,
    Tag,
    UpstreamProposal,
)

CHALLENGE_SORTS = {
    "newest": ["-created_at", "-pk"],
    "closing": ["closes_at", "-pk"],  # open ones with a deadline first, soonest first
    "active": ["-last_activity_at", "-pk"],
    "solutions": ["-solution_count", "-pk"],
}
SOLUTION_SORTS = {
    "newest": ["-published_at", "-pk"],
    "forked": ["-fork_count", "-descendant_count", "-pk"],
    "discussed": ["-comment_count", "-pk"],
    "updated": ["-updated_at", "-pk"],
}


def challenge_list(
    *,
    user,
    status: str = "",
    tag: str = "",
    value: str = "",
    q: str = "",
    sort: str = "newest",
) -> QuerySet[Challenge]:
    challenges = permissions.challenges_visible_to(user)
    if status:
        challenges = challenges.filter(status=status)
    if tag:
        challenges = challenges.filter(tags__slug=tag)
    if value:
        challenges = challenges.filter(values__slug=value)
    if q:
        challenges = challenges.filter(Q(title__icontains=q) | Q(summary__icontains=q))
    if sort == "closing":
        challenges = challenges.filter(status=Challenge.Status.OPEN, closes_at__isnull=False)
    # The organisers by name only: a list shows no more of them, and a kept page of it
    # (views.challenges.challenge_list) holds no other column of a member.
    organisers = Prefetch("organisers", queryset=User.objects.only(*_PERSON_FIELDS))
    return challenges.order_by(
        *CHALLENGE_SORTS.get(sort, CHALLENGE_SORTS["newest"])
    ).prefetch_related("tags", "values", organisers)


_PERSON_FIELDS = User.NAME_FIELDS
# The short lists a challenge's page shows, read in the challenge's own row (peerhub.related_rows):
# name, model, how its rows reach the challenge, fields, sort key (the model's own ordering).
_CHALLENGE_LISTS = (
    ("criteria", Criterion, "challenge", ("id", "challenge_id", "position", "name", "description"),
     lambda c: c.position),
    ("values", ManifestoValue, "challenges", ("id", "slug", "name", "position"),
     lambda v: (v.position, v.name)),
    ("tags", Tag, "challenges", ("id", "slug", "name"), lambda t: t.name),
    ("organisers", User, "organised_challenges", _PERSON_FIELDS, lambda u: u.username),
    ("invited", User, "challenge_invitations", _PERSON_FIELDS, lambda u: u.username),
)  # fmt: skip


def challenge_get(
    *, user, slug: str, language: str | None = None, follow_tally: bool = False
) -> Challenge:
    """The challenge with what its page needs, or 404 when the member may not see it: one query
    for the challenge, its proposal, its criteria, values, tags, organisers and invited members,
    and what other apps read with it (the `challenge_related` hook: select_related paths, such
    as the marketplace's prize purse). With `language`, its translation into that language (if
    any) comes in the same query (challenges.translations); with `follow_tally`, the follow
    button's figures too (peerhub.following.follow_tally_annotations)."""
    lists = {
        f"{name}_json": related_rows(
            model._default_manager.filter(**{link: OuterRef("pk")}), *fields
        )
        for name, model, link, fields, _key in _CHALLENGE_LISTS
    }
    challenges = Challenge.objects.select_related(
        "proposal__proposer", "created_by", *collect("challenge_related")
    )
    if language:
        challenges = translations.with_reader_translation(challenges, language)
    if follow_tally:
        challenges = challenges.annotate(**follow_tally_annotations(user, Challenge))
    challenge = challenges.annotate(**lists).filter(slug=slug).first()
    if challenge is None:
        raise Http404(_("No such challenge."))
    for name, model, _link, _fields, key in _CHALLENGE_LISTS:
        attach_related(challenge, name, model, getattr(challenge, f"{name}_json"), key=key)
    if not permissions.can_view_challenge(user, challenge):
        raise Http404(_("No such challenge."))
    return challenge


def challenge_solutions(
    *, user, challenge: Challenge, sort: str = "newest", ordering=None
) -> QuerySet[Solution]:
    """The challenge's solutions the member may see; withdrawn ones are left out of the list.
    `ordering` (queryset → queryset), when given, orders them instead of `sort`: other apps
    contribute orderings through the `solution_sorts` hook (reputation: by rank)."""
    solutions = (
        Solution.objects.filter(challenge=challenge)
        .exclude(status=Solution.Status.WITHDRAWN)
        .filter(
            Q(status=Solution.Status.PUBLISHED)
            | (Q(author=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[]))
        )
        .defer("search_vector")
        # Prefetched, not joined: the database then orders and cuts the page before reading any
        # member, instead of joining every member to every solution of the challenge first.
        .prefetch_related(
            Prefetch("author", queryset=User.objects.defer(*_AUTHOR_DEFERRED)),
            Prefetch(
                "parent",
                queryset=Solution.objects.select_related("author").only(
                    "id", "title", "author__username", "author__display_name"
                ),
            ),
        )
    )
    if ordering is not None:
        return ordering(solutions)
    return solutions.order_by(*SOLUTION_SORTS.get(sort, SOLUTION_SORTS["newest"]))


def solution_get(*, user, pk: int, figures: bool = True) -> Solution:
    """The solution with what its page needs, or 404 when the member may not see it: one query
    for the solution, its challenge and the challenge's organisers (who may moderate), its
    parent, and what other apps read with it (the `solution_annotations(user)` hook: {name:
    expression}, such as reputation's vote tally), unless not `figures` (its history, diffs and
    lineage, which show none: a busy solution's tally counts thousands of votes)."""
    annotations = {
        "challenge_organisers_json": related_rows(
            User.objects.filter(organised_challenges=OuterRef("challenge_id")), *_PERSON_FIELDS
        )
    }
    for extra in collect("solution_annotations", user=user) if figures else ():
        annotations.update(extra)
    solution = (
        Solution.objects.select_related(
            "challenge",
            "author",
            "current_revision",
            "parent__author",
            "parent__current_revision",
            "parent__challenge",
            "forked_from_revision",
        )
        .annotate(**annotations)
        .filter(pk=pk)
        .first()
    )
    if solution is None:
        raise Http404(_("No such solution."))
    attach_related(
        solution.challenge,
        "organisers",
        User,
        solution.challenge_organisers_json,
        key=lambda u: u.username,
    )
    if not permissions.can_view_solution(user, solution):
        raise Http404(_("No such solution."))
    return solution


def solution_revisions(*, solution: Solution) -> QuerySet[Revision]:
    return solution.revisions.select_related("author", "credited_solution__author").order_by(
        "-number"
    )


def revision_get(*, solution: Solution, number: int) -> Revision:
    revision = solution.revisions.filter(number=number).first()
    if revision is None:
        raise Http404(_("No such revision."))
    return revision


def revision_diff(*, old: Revision, new: Revision) -> list[DiffRow]:
    title = [] if old.title == new.title else side_by_side(old.title, new.title)
    return title + side_by_side(old.body, new.body)


def hidden_from(user, solution: Solution, *revisions: Revision) -> str:
    """Why moderation hides this solution, or one of these revisions of it, from `user`: the
    stub's reason, or "" when they may read it (permissions.can_see_moderated). The pages and
    the API show the stub instead of the text, diffs and files included."""
    reason = solution.hidden_reason or next(
        (r.hidden_reason for r in revisions if r.hidden_reason), ""
    )
    if not reason or permissions.can_see_moderated(user, solution):
        return ""
    return reason


# --- Lineage ---------------------------------------------------------------------------------


@dataclass
class LineageNode:
    id: int
    parent_id: int | None
    title: str
    author: str
    author_username: str
    generation: int
    status: str
    challenge_slug: str
    challenge_title: str
    visible: bool
    url: str
    children: list["LineageNode"] = field(default_factory=list)
    descendant_count: int = 0

    def as_dict(self) -> dict:
        """Nested JSON for the API. Nodes the viewer may not see keep their place, anonymised."""
        base = {"id": self.id if self.visible else None, "generation": self.generation}
        if self.visible:
            base.update(
                title=self.title,
                author=self.author_username,
                status=self.status,
                challenge=self.challenge_slug,
                url=self.url,
            )
        else:
            base.update(title=None, author=None, status="private", challenge=None, url=None)
        base["children"] = [child.as_dict() for child in self.children]
        return base


@dataclass
class Lineage:
    root: LineageNode
    nodes: dict[int, LineageNode]
    current_id: int | None
    ancestors: list[LineageNode]
    # Solutions in the whole lineage, when only part of it was read (the challenge page).
    total: int = 0

    @property
    def size(self) -> int:
        return len(self.nodes)

    @property
    def truncated(self) -> bool:
        return self.total > len(self.nodes)


def _challenge_visible(user) -> Exists:
    """Whether the member may see a lineage row's challenge, read with the row itself (a
    lineage crosses challenges, some perhaps private)."""
    return Exists(permissions.challenges_visible_to(user).filter(pk=OuterRef("challenge_id")))


def _solution_url_maker():
    """Solution URLs for a whole tree from one reverse(): a reverse per node was most of the
    time of a large lineage."""
    sample = reverse("challenges:solution-detail", kwargs={"pk": 1})
    head, _sep, tail = sample.rpartition("/1/")
    return lambda pk: f"{head}/{pk}/{tail}"


def _lineage_nodes(user, rows: list[tuple]) -> dict[int, LineageNode]:
    """Link rows (_lineage_rows) into trees. Other members' drafts are left out; solutions in
    challenges the viewer may not see keep their place in the tree, anonymised."""
    user_id = getattr(user, "pk", None)
    url_of = _solution_url_maker()
    hidden = pgettext("lineage", "Hidden")
    published = permissions.was_published_as
    nodes: dict[int, LineageNode] = {}
    for (
        pk, parent_id, title, generation, status, author_id, published_at, username,
        display_name, challenge_slug, challenge_title, hidden_at, visible,
    ) in rows:  # fmt: skip
        if author_id != user_id and not published(status, published_at):
            continue
        nodes[pk] = LineageNode(
            id=pk,
            parent_id=parent_id,
            # Hidden by moderation (issue 21): the tree keeps its shape, the words go.
            title=title if hidden_at is None or author_id == user_id else hidden,
            author=display_name or username,  # User.name
            author_username=username,
            generation=generation,
            status=status,
            challenge_slug=challenge_slug,
            challenge_title=challenge_title,
            visible=visible,
            url=url_of(pk),
        )
    for node in nodes.values():
        if node.parent_id in nodes:
            nodes[node.parent_id].children.append(node)
    for node in sorted(nodes.values(), key=lambda n: -n.generation):
        node.descendant_count = sum(1 + child.descendant_count for child in node.children)
    return nodes


LINEAGE_FIELDS = (
    "id", "parent_id", "title", "generation", "status", "author_id", "published_at",
    "author__username", "author__display_name", "challenge__slug", "challenge__title",
    "hidden_at", "challenge_visible",
)  # fmt: skip


def _lineage_rows(user, **filters) -> list[tuple]:
    """The rows of LINEAGE_FIELDS, as tuples (a 500-node lineage built as model instances
    spent most of its time there), each with whether the viewer may see its challenge."""
    return list(
        Solution.objects.filter(**filters)
        .annotate(challenge_visible=_challenge_visible(user))
        .order_by("generation", "published_at", "pk")
        .values_list(*LINEAGE_FIELDS)
    )


def lineage_for(*, user, solution: Solution) -> Lineage:
    """The whole lineage tree that `solution` belongs to (its root and every descendant), with
    the ancestors of `solution` listed. One query whatever the size: the tree (by root, thanks to
    the materialised path), each row with whether the viewer may see its challenge."""
    nodes = _lineage_nodes(user, _lineage_rows(user, root_id=solution.root_id))
    ancestors = [nodes[i] for i in solution.ancestor_ids if i in nodes]
    return Lineage(
        root=nodes[solution.root_id], nodes=nodes, current_id=solution.pk, ancestors=ancestors
    )


def _tree(root: LineageNode) -> dict[int, LineageNode]:
    """The nodes of one tree, so that each lineage of a forest counts only its own."""
    nodes, stack = {}, [root]
    while stack:
        node = stack.pop()
        nodes[node.id] = node
        stack.extend(node.children)
    return nodes


FOREST_TREES = 6  # lineages drawn on a challenge's page
FOREST_NODES_PER_TREE = 200  # solutions read per drawn lineage; its own page has them all


def challenge_lineage_roots(challenge: Challenge) -> list[int]:
    """The roots of the lineages that the challenge's published solutions belong to, in id
    order: one query, no solution rows."""
    return sorted(
        Solution.objects.filter(challenge=challenge, status=Solution.Status.PUBLISHED)
        .order_by()
        .values_list("root_id", flat=True)
        .distinct()
    )


def challenge_lineage_forest(
    *, user, challenge: Challenge, roots: list[int] | None = None
) -> list[Lineage]:
    """The lineages that the challenge's published solutions belong to: one tree per root,
    including ancestors and descendants in other challenges; or only the trees of `roots`
    (some of challenge_lineage_roots), read alone. Two queries in all (one with `roots`)."""
    root_ids = set(challenge_lineage_roots(challenge) if roots is None else roots)
    nodes = _lineage_nodes(user, _lineage_rows(user, root_id__in=root_ids))
    forest = [
        Lineage(root=nodes[root_id], nodes=_tree(nodes[root_id]), current_id=None, ancestors=[])
        for root_id in root_ids
        if root_id in nodes
    ]
    forest.sort(key=lambda lineage: (-lineage.root.descendant_count, lineage.root.id))
    return forest


def challenge_lineage_overview(
    *, user, challenge: Challenge, trees: int = FOREST_TREES, per_tree: int = FOREST_NODES_PER_TREE
) -> tuple[list[Lineage], int]:
    """The most built-upon lineages that the challenge's published solutions belong to (by the
    roots' stored descendant counts; lone solutions are left out), each with at most `per_tree`
    solutions, oldest generations first, including ancestors and descendants in other
    challenges; and how many more branched lineages there are. Two queries whatever the size
    (challenge_lineage_forest reads every tree whole, for the evolution page): the branched
    roots, from the challenge's own solutions to their roots by key (as a subquery the planner
    would walk every branched root on the platform instead), then the top trees' rows."""
    branched = sorted(
        Solution.objects.filter(
            challenge=challenge, status=Solution.Status.PUBLISHED, root__descendant_count__gt=0
        )
        .order_by()
        .values_list("root__descendant_count", "root_id")
        .distinct(),
        key=lambda row: (-row[0], row[1]),
    )
    top_ids = [root_id for _count, root_id in branched[:trees]]
    if not top_ids:
        return [], 0
    more = len(branched) - len(top_ids)
    user_id = getattr(user, "pk", None)
    seen = Q(status=Solution.Status.PUBLISHED) | Q(
        status=Solution.Status.WITHDRAWN, published_at__isnull=False
    )
    if user_id is not None:
        seen |= Q(author_id=user_id)
    # Numbered over the solutions' own columns only, then the kept ones joined to their
    # authors and challenges: joining first would read every member of a big lineage.
    kept = (
        Solution.objects.filter(seen, root_id__in=top_ids)
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("root_id")],
                order_by=[F("generation").asc(), F("published_at").asc(), F("id").asc()],
            )
        )
        .filter(position__lte=per_tree)
        .values("pk")
    )
    rows = _lineage_rows(user, pk__in=kept)
    stored_sizes = {count_id: count + 1 for count, count_id in branched[:trees]}
    nodes = _lineage_nodes(user, rows)
    forest = []
    for root_id in top_ids:
        if root_id not in nodes:
            continue
        tree = _tree(nodes[root_id])
        total = max(stored_sizes.get(root_id, 0), len(tree))
        forest.append(
            Lineage(
                root=nodes[root_id],
                nodes=tree,
                current_id=None,
                ancestors=[],
                total=total,
            )
        )
    return [lineage for lineage in forest if lineage.size > 1], more


# --- Proposals, upstream, comments -----------------------------------------------------------


def proposal_list(*, status: str = "open", sort: str = "backed") -> QuerySet[ChallengeProposal]:
    proposals = ChallengeProposal.objects.select_related("proposer", "challenge")
    if status:
        proposals = proposals.filter(status=status)
    order = ["-backing_count", "-created_at"] if sort == "backed" else ["-created_at"]
    return proposals.order_by(*order)


def proposal_backed_by(*, user, proposal_ids) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        user.proposal_backings.filter(proposal_id__in=list(proposal_ids)).values_list(
            "proposal_id", flat=True
        )
    )


def upstream_get(*, user, pk: int) -> UpstreamProposal:
    proposal = (
        UpstreamProposal.objects.select_related(
            "fork__author",
            "fork__challenge",
            "parent__author",
            "parent__challenge",
            "parent__current_revision",
            "fork_revision",
            "base_revision",
            "author",
            "resulting_revision",
        )
        .filter(pk=pk)
        .first()
    )
    if proposal is None or not (
        permissions.can_view_solution(user, proposal.fork)
        and permissions.can_view_solution(user, proposal.parent)
    ):
        raise Http404(_("No such proposal."))
    return proposal


def upstream_proposals_for(*, solution: Solution) -> QuerySet[UpstreamProposal]:
    return (
        UpstreamProposal.objects.filter(Q(parent=solution) | Q(fork=solution))
        .select_related("fork__author", "parent__author", "author")
        .order_by("-created_at")
    )


@dataclass
class CommentNode:
    comment: Comment
    replies: list["CommentNode"] = field(default_factory=list)
    depth: int = 0
    # On a thread's top-level comment: its replies in all, and how many of them are not shown.
    reply_total: int = 0
    replies_hidden: int = 0


THREADS_PER_PAGE = 15
REPLIES_PER_THREAD = 5  # the first replies of each thread; "more replies" loads the rest
REPLIES_IN_FULL_THREAD = 500  # a thread opened on its own; beyond it, the API lists them all
_AUTHOR_DEFERRED = ("password", "bio", "skills")  # the page shows names only


def _target_filter(target: Challenge | Solution) -> dict:
    return {"challenge": target} if isinstance(target, Challenge) else {"solution": target}


def _comments():
    # Only the author's name and username: the join then reads a handful of users by key.
    return Comment.objects.select_related("author").defer(
        *(f"author__{name}" for name in _AUTHOR_DEFERRED)
    )


def _link(roots: list[Comment], replies: list[Comment]) -> list[CommentNode]:
    """Roots and some of their replies as trees. Replies come in id order and a parent is
    always older than its reply, so the first replies of a thread always include their parents."""
    by_id = {c.pk: CommentNode(comment=c) for c in roots}
    nodes = [by_id[c.pk] for c in roots]
    for reply in replies:
        parent = by_id.get(reply.parent_id)
        if parent is None:
            continue
        node = CommentNode(comment=reply, depth=min(parent.depth + 1, 6))
        by_id[reply.pk] = node
        parent.replies.append(node)
    return nodes


def _replies_of(root_ids: list[int], *, first: int) -> tuple[list[Comment], dict[int, int]]:
    """The first `first` replies of each thread, and each thread's number of replies: one
    query, numbered with window functions."""
    if not root_ids:
        return [], {}
    rows = list(
        _comments()
        .filter(thread_id__in=root_ids)
        .annotate(
            position=Window(RowNumber(), partition_by=[F("thread_id")], order_by=F("id").asc()),
            thread_total=Window(Count("id"), partition_by=[F("thread_id")]),
        )
        .filter(position__lte=first)
        .order_by("id")
    )
    totals = {row.thread_id: row.thread_total for row in rows}
    return rows, totals


def _threads(roots: list[Comment], *, first: int) -> list[CommentNode]:
    replies, totals = _replies_of([c.pk for c in roots], first=first)
    threads = _link(roots, replies)
    for node in threads:
        node.reply_total = totals.get(node.comment.pk, 0)
        node.replies_hidden = max(0, node.reply_total - first)
    return threads


def discussion_page(
    *, target: Challenge | Solution, number, expand: int | None = None
) -> tuple[Page, list[CommentNode]]:
    """One page of a target's discussion: THREADS_PER_PAGE top-level comments, oldest first,
    each with its first replies (all of them for the thread `expand`). Two queries whatever
    the size of the discussion (the page carries its count)."""
    roots = (
        Comment.objects.filter(**_target_filter(target), parent__isnull=True)
        .select_related("author")
        .defer(*(f"author__{name}" for name in _AUTHOR_DEFERRED))
        .order_by("id")
    )
    page = CountedPaginator(roots, THREADS_PER_PAGE).get_page(number)
    rows = list(page.object_list)
    threads = _threads([c for c in rows if c.pk != expand], first=REPLIES_PER_THREAD)
    if expand is not None and any(c.pk == expand for c in rows):
        full = {
            n.comment.pk: n
            for n in _threads([c for c in rows if c.pk == expand], first=REPLIES_IN_FULL_THREAD)
        }
        by_pk = {n.comment.pk: n for n in threads} | full
        threads = [by_pk[c.pk] for c in rows]
    return page, threads


def comment_thread_full(*, root: Comment) -> CommentNode:
    """One thread on its own, with (up to REPLIES_IN_FULL_THREAD of) its replies."""
    return _threads([root], first=REPLIES_IN_FULL_THREAD)[0]


def comment_page_number(*, comment: Comment) -> int:
    """The page of its target's discussion that shows `comment`'s thread."""
    root_id = comment.thread_root_id
    target = {"challenge_id": comment.challenge_id, "solution_id": comment.solution_id}
    before = Comment.objects.filter(**target, parent__isnull=True, id__lt=root_id).count()
    return before // THREADS_PER_PAGE + 1


def comment_shown_in_page(*, comment: Comment) -> bool:
    """Whether a page of the discussion shows `comment` (a top-level comment or one of the first
    replies of its thread), rather than only its thread opened in full."""
    if comment.thread_id is None:
        return True
    earlier = Comment.objects.filter(thread_id=comment.thread_id, id__lt=comment.pk).count()
    return earlier < REPLIES_PER_THREAD


def comment_thread(*, target: Challenge | Solution) -> list[CommentNode]:
    """All comments on a target as a tree, in one query (small discussions: exports, tests)."""
    comments = list(_comments().filter(**_target_filter(target)).order_by("pk"))
    roots = [c for c in comments if c.parent_id is None]
    return _link(roots, [c for c in comments if c.parent_id is not None])


def comments_visible_to(user) -> QuerySet[Comment]:
    challenge_ids = permissions.challenges_visible_to(user).values("pk")
    solution_ids = permissions.solutions_visible_to(user).values("pk")
    return Comment.objects.filter(
        Q(challenge__in=challenge_ids) | Q(solution__in=solution_ids)
    ).select_related("author")


def member_solutions(*, user, member: User) -> QuerySet[Solution]:
    return (
        permissions.solutions_visible_to(user)
        .filter(author=member)
        .select_related("challenge")
        .order_by("-updated_at")
    )


def member_challenges(*, user, member: User) -> QuerySet[Challenge]:
    return permissions.challenges_visible_to(user).filter(organisers=member).order_by("-created_at")


# --- Selection rounds ------------------------------------------------------------------------


def selection_rounds(*, user, challenge: Challenge) -> list[SelectionRound]:
    """The challenge's rounds, oldest first, with their entries (winners first): published ones
    for everyone who sees the challenge, the round in preparation for its organisers too. Two
    queries, whatever the number of rounds and entries."""
    rounds = SelectionRound.objects.filter(challenge=challenge)
    if not permissions.can_view_draft_rounds(user, challenge):
        rounds = rounds.filter(status=SelectionRound.Status.PUBLISHED)
    return list(
        rounds.select_related("published_by").prefetch_related(
            Prefetch(
                "entries",
                queryset=SelectionEntry.objects.select_related(
                    "solution__author", "shortlisted_by", "selected_by"
                ),
            )
        )
    )


def selection_round_get(*, user, challenge: Challenge, number: int) -> SelectionRound:
    for round_ in selection_rounds(user=user, challenge=challenge):
        if round_.number == number:
            return round_
    raise Http404(_("No such selection round."))


# --- Mentions --------------------------------------------------------------------------------


def mention_target(*, user, challenge: str = "", solution: str = "") -> Challenge | Solution:
    """The challenge (by slug) or solution (by id) someone is writing about, for @ suggestions;
    404 unless the writer may see it. Light on purpose: no page's prefetches."""
    target = None
    if solution:
        pk = parse_id(solution)
        target = Solution.objects.select_related("challenge").filter(pk=pk).first() if pk else None
        if target is not None and not permissions.can_view_solution(user, target):
            target = None
    elif challenge:
        target = Challenge.objects.filter(slug=challenge[:100]).first()
        if target is not None and not permissions.can_view_challenge(user, target):
            target = None
    if target is None:
        raise Http404(_("Nothing to write about here."))
    return target


def mention_suggestions_for(
    *,
    user,
    challenge: str = "",
    solution: str = "",
    proposal: str = "",
    upstream: str = "",
    query: str = "",
) -> list[User]:
    """Members who may see what `user` is writing about, matching `query`: no one the page
    would not show to them is suggested (a private challenge's outsiders stay unnamed).
    `proposal`: a challenge proposal ("new" or its id), public; `upstream`: the id of the fork
    whose changes are offered to its parent (those who may see both)."""
    if proposal:
        pk = parse_id(proposal)
        if proposal != "new" and not ChallengeProposal.objects.filter(pk=pk).exists():
            raise Http404(_("Nothing to write about here."))
        audience = permissions.viewers_of_proposal()
    elif upstream:
        fork = mention_target(user=user, solution=upstream)
        if fork.parent_id is None or not permissions.can_view_solution(user, fork.parent):
            raise Http404(_("Nothing to write about here."))
        audience = permissions.viewers_of_upstream(fork, fork.parent)
    else:
        target = mention_target(user=user, challenge=challenge, solution=solution)
        audience = permissions.viewers_of(target)
    return mention_suggestions(audience=audience, query=query, writer=user)
