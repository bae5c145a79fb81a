"""Reads for challenges: lists with filters and sorts, detail pages, lineages and diffs. Every
function takes the viewing member and returns only what they may see."""

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse

from peerhub.models import User

from . import permissions
from .diff import DiffRow, side_by_side
from .models import (
    Challenge,
    ChallengeProposal,
    Comment,
    Revision,
    SelectionEntry,
    SelectionRound,
    Solution,
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
    return challenges.order_by(
        *CHALLENGE_SORTS.get(sort, CHALLENGE_SORTS["newest"])
    ).prefetch_related("tags", "values", "organisers")


def challenge_get(*, user, slug: str) -> Challenge:
    """The challenge with what its page needs, or 404 when the member may not see it."""
    challenge = (
        Challenge.objects.select_related("proposal__proposer", "created_by")
        .prefetch_related("criteria", "values", "tags", "organisers", "invited")
        .filter(slug=slug)
        .first()
    )
    if challenge is None or not permissions.can_view_challenge(user, challenge):
        raise Http404("No such challenge.")
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
        .select_related("author", "parent__author")
    )
    if ordering is not None:
        return ordering(solutions)
    return solutions.order_by(*SOLUTION_SORTS.get(sort, SOLUTION_SORTS["newest"]))


def solution_get(*, user, pk: int) -> Solution:
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
        .filter(pk=pk)
        .first()
    )
    if solution is None or not permissions.can_view_solution(user, solution):
        raise Http404("No such solution.")
    return solution


def solution_revisions(*, solution: Solution) -> QuerySet[Revision]:
    return solution.revisions.select_related("author", "credited_solution__author").order_by(
        "-number"
    )


def revision_get(*, solution: Solution, number: int) -> Revision:
    revision = solution.revisions.filter(number=number).first()
    if revision is None:
        raise Http404("No such revision.")
    return revision


def revision_diff(*, old: Revision, new: Revision) -> list[DiffRow]:
    title = [] if old.title == new.title else side_by_side(old.title, new.title)
    return title + side_by_side(old.body, new.body)


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

    @property
    def size(self) -> int:
        return len(self.nodes)


def _visible_challenge_ids(user, challenge_ids: set[int]) -> set[int]:
    visible = permissions.challenges_visible_to(user).filter(pk__in=challenge_ids)
    return set(visible.values_list("pk", flat=True))


def _solution_url_maker():
    """Solution URLs for a whole tree from one reverse(): a reverse per node was most of the
    time of a large lineage."""
    sample = reverse("challenges:solution-detail", kwargs={"pk": 1})
    head, _, tail = sample.rpartition("/1/")
    return lambda pk: f"{head}/{pk}/{tail}"


def _lineage_nodes(user, rows: list[Solution]) -> dict[int, LineageNode]:
    """Link rows into trees. Other members' drafts are left out; solutions in challenges the
    viewer may not see keep their place in the tree, anonymised."""
    visible_challenges = _visible_challenge_ids(user, {row.challenge_id for row in rows})
    user_id = getattr(user, "pk", None)
    url_of = _solution_url_maker()
    nodes: dict[int, LineageNode] = {}
    for row in rows:
        if not permissions.was_published(row) and row.author_id != user_id:
            continue
        nodes[row.pk] = LineageNode(
            id=row.pk,
            parent_id=row.parent_id,
            title=row.title,
            author=row.author.name,
            author_username=row.author.username,
            generation=row.generation,
            status=row.status,
            challenge_slug=row.challenge.slug,
            challenge_title=row.challenge.title,
            visible=row.challenge_id in visible_challenges,
            url=url_of(row.pk),
        )
    for node in nodes.values():
        if node.parent_id in nodes:
            nodes[node.parent_id].children.append(node)
    for node in sorted(nodes.values(), key=lambda n: -n.generation):
        node.descendant_count = sum(1 + child.descendant_count for child in node.children)
    return nodes


LINEAGE_FIELDS = (
    "id", "parent_id", "title", "generation", "status", "author_id", "challenge_id",
    "published_at", "author__username", "author__display_name", "challenge__slug",
    "challenge__title",
)  # fmt: skip


def _lineage_rows(**filters) -> list[Solution]:
    return list(
        Solution.objects.filter(**filters)
        .select_related("author", "challenge")
        .only(*LINEAGE_FIELDS)
        .order_by("generation", "published_at", "pk")
    )


def lineage_for(*, user, solution: Solution) -> Lineage:
    """The whole lineage tree that `solution` belongs to (its root and every descendant), with
    the ancestors of `solution` listed. Two queries whatever the size: one for the tree (by root,
    thanks to the materialised path), one for which of its challenges the viewer may see."""
    nodes = _lineage_nodes(user, _lineage_rows(root_id=solution.root_id))
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


def challenge_lineage_forest(*, user, challenge: Challenge) -> list[Lineage]:
    """The lineages that the challenge's published solutions belong to: one tree per root,
    including ancestors and descendants in other challenges. Three queries in all."""
    root_ids = set(
        Solution.objects.filter(challenge=challenge, status=Solution.Status.PUBLISHED)
        .values_list("root_id", flat=True)
        .distinct()
    )
    nodes = _lineage_nodes(user, _lineage_rows(root_id__in=root_ids))
    forest = [
        Lineage(root=nodes[root_id], nodes=_tree(nodes[root_id]), current_id=None, ancestors=[])
        for root_id in root_ids
        if root_id in nodes
    ]
    forest.sort(key=lambda lineage: (-lineage.root.descendant_count, lineage.root.id))
    return forest


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
        raise Http404("No such proposal.")
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


def comment_thread(*, target: Challenge | Solution) -> list[CommentNode]:
    """All comments on a target as a tree, in one query."""
    filters = {"challenge": target} if isinstance(target, Challenge) else {"solution": target}
    comments = list(Comment.objects.filter(**filters).select_related("author").order_by("pk"))
    by_id = {c.pk: CommentNode(comment=c) for c in comments}
    roots = []
    for node in by_id.values():
        parent = by_id.get(node.comment.parent_id)
        if parent is None:
            roots.append(node)
        else:
            node.depth = min(parent.depth + 1, 6)
            parent.replies.append(node)
    return roots


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
    raise Http404("No such selection round.")
