"""Who may see and do what in challenges — one module, used by HTML views, API views and services.

Visibility answers with querysets filters (for lists) and predicates (for one object); both
express the same rule. Things a member may not see are answered with 404 by the views, never
403, so that private challenges and drafts do not leak their existence."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, Q, QuerySet

from peerhub.selectors import user_is_verified

from .models import Challenge, Comment, Solution

ORGANISER_PERMISSION = "challenges.add_challenge"
# Premium organiser features. challenges only asks; the marketplace's Premium plan answers
# through its authentication backend (and staff could grant them to anyone).
PRIVATE_CHALLENGE_PERMISSION = "challenges.create_private_challenge"
MORE_OPEN_CHALLENGES_PERMISSION = "challenges.more_open_challenges"
DEFAULT_OPEN_CHALLENGE_LIMITS = {"free": 2, "premium": 20}


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_staff(user) -> bool:
    return _authenticated(user) and user.is_staff


def is_organiser(user, challenge: Challenge) -> bool:
    """Organiser of this challenge. Uses prefetched organisers when the view loaded them."""
    if not _authenticated(user):
        return False
    cache = getattr(challenge, "_prefetched_objects_cache", {})
    if "organisers" in cache:
        return any(member.pk == user.pk for member in cache["organisers"])
    return challenge.organisers.filter(pk=user.pk).exists()


def is_invited(user, challenge: Challenge) -> bool:
    if not _authenticated(user):
        return False
    cache = getattr(challenge, "_prefetched_objects_cache", {})
    if "invited" in cache:
        return any(member.pk == user.pk for member in cache["invited"])
    return challenge.invited.filter(pk=user.pk).exists()


# --- Challenges ------------------------------------------------------------------------------


def visible_challenges_q(user, prefix: str = "") -> Q:
    """Public challenges past draft; drafts to their organisers; private ones to organisers and
    invited members. Staff see everything."""
    p = prefix
    if is_staff(user):
        return Q()
    public = Q(**{f"{p}visibility": Challenge.Visibility.PUBLIC}) & ~Q(
        **{f"{p}status": Challenge.Status.DRAFT}
    )
    if not _authenticated(user):
        return public
    organiser = Q(**{f"{p}organisers": user})
    invited = Q(**{f"{p}invited": user}) & ~Q(**{f"{p}status": Challenge.Status.DRAFT})
    return public | organiser | invited


def challenges_visible_to(user) -> QuerySet[Challenge]:
    ids = Challenge.objects.filter(visible_challenges_q(user)).values("pk")
    return Challenge.objects.filter(pk__in=ids)


def can_view_challenge(user, challenge: Challenge) -> bool:
    # Everyone sees a public challenge once it is no longer a draft: no query for the most
    # common case (every vote and review asks).
    public = challenge.visibility == Challenge.Visibility.PUBLIC
    if public and challenge.status != Challenge.Status.DRAFT:
        return True
    if is_staff(user) or is_organiser(user, challenge):
        return True
    if challenge.status == Challenge.Status.DRAFT:
        return False
    return is_invited(user, challenge)


def can_create_challenge(user) -> bool:
    return user_is_verified(user) and user.has_perm(ORGANISER_PERMISSION)


def can_make_challenge_private(user) -> bool:
    """Private challenges (organisers and invited members only) are a Premium feature."""
    return is_staff(user) or (_authenticated(user) and user.has_perm(PRIVATE_CHALLENGE_PERMISSION))


def open_challenge_limits() -> dict[str, int]:
    configured = getattr(settings, "PEERHUB_CHALLENGES", {}).get("open_challenges", {})
    return {**DEFAULT_OPEN_CHALLENGE_LIMITS, **configured}


def open_challenge_limit(user) -> int | None:
    """How many open challenges `user` may run at once; None for staff, who have no limit."""
    if is_staff(user):
        return None
    limits = open_challenge_limits()
    if _authenticated(user) and user.has_perm(MORE_OPEN_CHALLENGES_PERMISSION):
        return limits["premium"]
    return limits["free"]


def open_challenges_run_by(user) -> int:
    """Open challenges `user` runs: those they created or co-organise, each counted once."""
    return (
        Challenge.objects.filter(Q(organisers=user) | Q(created_by=user))
        .filter(status=Challenge.Status.OPEN)
        .values("pk")
        .distinct()
        .count()
    )


def can_edit_challenge(user, challenge: Challenge) -> bool:
    return user_is_verified(user) and (is_organiser(user, challenge) or is_staff(user))


def can_post_solution(user, challenge: Challenge) -> bool:
    return (
        user_is_verified(user)
        and challenge.status == Challenge.Status.OPEN
        and can_view_challenge(user, challenge)
    )


# --- Proposals -------------------------------------------------------------------------------


def can_propose_challenge(user) -> bool:
    """A trust-level privilege (reputation answers has_perm); verified members hold it."""
    return user_is_verified(user) and user.has_perm("challenges.add_challengeproposal")


def can_back_proposal(user) -> bool:
    return user_is_verified(user)


def can_decide_proposal(user) -> bool:
    return can_create_challenge(user)


# --- Solutions -------------------------------------------------------------------------------


def was_published(solution: Solution) -> bool:
    """Published, or withdrawn after being published. A draft withdrawn before anyone saw it
    stays its author's, like any draft."""
    return was_published_as(solution.status, solution.published_at)


def was_published_as(status: str, published_at) -> bool:
    """was_published, from the two columns (rows read as values)."""
    return status == Solution.Status.PUBLISHED or (
        status == Solution.Status.WITHDRAWN and published_at is not None
    )


def visible_solutions_q(user, prefix: str = "") -> Q:
    """Solutions of visible challenges that were published (withdrawn ones included); drafts,
    withdrawn or not, only to their author. Solutions hidden by moderation leave every list,
    search and lineage but their author's (their own page keeps a stub that says why)."""
    p = prefix
    public = _public_solutions_q(p)
    if _authenticated(user):
        public |= Q(**{f"{p}author": user})
    challenge_ids = challenges_visible_to(user).values("pk")
    return public & Q(**{f"{p}challenge__in": challenge_ids})


def _public_solutions_q(p: str = "") -> Q:
    """Solutions anyone may see in a challenge they may see: published (withdrawn ones that
    were), not hidden by moderation."""
    return (
        Q(**{f"{p}status": Solution.Status.PUBLISHED})
        | Q(**{f"{p}status": Solution.Status.WITHDRAWN, f"{p}published_at__isnull": False})
    ) & Q(**{f"{p}hidden_at__isnull": True})


def beyond_public_q() -> Q:
    """Challenges that not everyone may see: private ones, and drafts."""
    return ~Q(visibility=Challenge.Visibility.PUBLIC) | Q(status=Challenge.Status.DRAFT)


def sees_as_visitor(user) -> bool:
    """Whether every list, search and lineage shows `user` exactly what it shows a visitor: no
    challenge that only some may see (private, or a draft) is open to them, and none of their
    solutions is one only they may see (a draft, one hidden by moderation). Most members: what
    is kept for visitors may then be shared with them (the search answer, the evolution view).
    Asked once per request (kept on the user)."""
    if not _authenticated(user):
        return True
    known = getattr(user, "_peerhub_sees_as_visitor", None)
    if known is None:
        # Both questions in one query, asked of the member's own row.
        beyond = Exists(challenges_visible_to(user).filter(beyond_public_q())) | Exists(
            Solution.objects.filter(author=user).exclude(_public_solutions_q())
        )
        rows = user._meta.model._default_manager.filter(pk=user.pk).annotate(beyond=beyond)
        known = not rows.values_list("beyond", flat=True).first()
        user._peerhub_sees_as_visitor = known
    return known


def solutions_visible_to(user) -> QuerySet[Solution]:
    return Solution.objects.filter(visible_solutions_q(user))


def can_view_solution(user, solution: Solution) -> bool:
    if not was_published(solution) and not (_authenticated(user) and solution.author_id == user.pk):
        return False
    return can_view_challenge(user, solution.challenge)


def can_edit_solution(user, solution: Solution) -> bool:
    return (
        user_is_verified(user)
        and solution.author_id == user.pk
        and solution.status != Solution.Status.WITHDRAWN
    )


def can_fork_solution(user, solution: Solution) -> bool:
    return (
        user_is_verified(user)
        and solution.status == Solution.Status.PUBLISHED
        and solution.hidden_at is None
        and can_view_solution(user, solution)
    )


def can_withdraw_solution(user, solution: Solution) -> bool:
    return (
        user_is_verified(user)
        and solution.status != Solution.Status.WITHDRAWN
        and (solution.author_id == user.pk or is_staff(user))
    )


def can_propose_upstream(user, fork: Solution) -> bool:
    """The fork's author offers changes to a parent they can still see (a parent whose
    challenge turned private is out of reach, and so is any proposal to it)."""
    return (
        user_is_verified(user)
        and fork.parent_id is not None
        and fork.author_id == user.pk
        and fork.status == Solution.Status.PUBLISHED
        and can_view_solution(user, fork.parent)
    )


def can_decide_upstream(user, parent: Solution) -> bool:
    return user_is_verified(user) and parent.author_id == user.pk


# --- Comments --------------------------------------------------------------------------------


def can_comment(user, target) -> bool:
    if not user_is_verified(user):
        return False
    if isinstance(target, Solution):
        return can_view_solution(user, target) and was_published(target)
    return can_view_challenge(user, target)


def can_edit_comment(user, comment: Comment) -> bool:
    """Its author, unless it is deleted or an organiser hid it; one that moderation hid on
    flags its author may edit, which sends it back to the review queue (issue 21)."""
    return (
        user_is_verified(user)
        and comment.author_id == user.pk
        and not comment.is_deleted
        and (not comment.is_hidden or bool(comment.hidden_reason))
    )


def can_moderate_comment(user, comment: Comment) -> bool:
    challenge = comment.challenge or comment.solution.challenge
    return user_is_verified(user) and (is_organiser(user, challenge) or is_staff(user))


def may_moderate_some_comments(user) -> bool:
    """Whether `user` moderates any comment (`can_moderate_comment`): staff, or a verified
    organiser of some challenge. One query at most."""
    if not _authenticated(user) or not user_is_verified(user):
        return False
    return is_staff(user) or Challenge.objects.filter(organisers=user).exists()


def can_read_comment_words(user, comment: Comment) -> bool:
    """Whether `user`, who sees the comment's place in its thread, may read its words (and their
    edit history): never once deleted; while hidden, its moderators, and its author when
    moderation hid it on flags (to edit or appeal), as the thread shows them."""
    if comment.is_deleted:
        return False
    if not comment.is_hidden:
        return True
    moderated = bool(comment.hidden_reason) and can_see_moderated(user, comment)
    return can_moderate_comment(user, comment) or moderated


# --- Selection rounds ------------------------------------------------------------------------


def can_run_selection(user, challenge: Challenge) -> bool:
    """Shortlist, select winners and publish: the challenge's organisers (and staff), while the
    challenge is selecting. Published rounds stay as they are whatever the status."""
    return (
        user_is_verified(user)
        and (is_organiser(user, challenge) or is_staff(user))
        and challenge.status == Challenge.Status.SELECTING
    )


def can_view_draft_rounds(user, challenge: Challenge) -> bool:
    """A round in preparation is the organisers' working list; members see published ones."""
    return is_organiser(user, challenge) or is_staff(user)


# --- Who may see a thing (mentions) ----------------------------------------------------------


def viewers_of(target: Challenge | Solution) -> QuerySet:
    """The active members who may see `target`: the same rule as can_view_challenge and
    can_view_solution, as a queryset of members (for @mention suggestions and notices)."""
    from peerhub.models import User

    members = User.objects.filter(is_active=True)
    if isinstance(target, Solution):
        if not was_published(target):
            members = members.filter(pk=target.author_id)  # a draft is its author's alone
        challenge = target.challenge
    else:
        challenge = target
    public = challenge.visibility == Challenge.Visibility.PUBLIC
    if public and challenge.status != Challenge.Status.DRAFT:
        return members
    may = Q(is_staff=True) | Q(pk__in=challenge.organisers.values("pk"))
    if challenge.status != Challenge.Status.DRAFT:
        may |= Q(pk__in=challenge.invited.values("pk"))
    return members.filter(may)


def viewers_of_proposal():
    """Who may see a member's challenge proposal: any active member (proposals are public)."""
    from peerhub.models import User

    return User.objects.filter(is_active=True)


def viewers_of_upstream(fork: Solution, parent: Solution) -> QuerySet:
    """Who may see an upstream proposal (selectors.upstream_get): those who may see both the
    fork and its parent."""
    return viewers_of(fork).filter(pk__in=viewers_of(parent).values("pk"))


# --- What search engines and feed readers see (issue 21) ---------------------------------------
# An anonymous visitor's view, by the rules above, narrowed to what is worth announcing: solutions
# that are published now (a withdrawn one keeps its page for those who follow a link or its
# lineage, but is no longer put forward), whose text moderation has not hidden.


def challenges_public() -> QuerySet[Challenge]:
    return challenges_visible_to(AnonymousUser())


def solutions_public() -> QuerySet[Solution]:
    return solutions_visible_to(AnonymousUser()).filter(
        status=Solution.Status.PUBLISHED, current_revision__hidden_at__isnull=True
    )


def is_public(target: Challenge | Solution) -> bool:
    """challenges_public and solutions_public for one object: whether its page may describe it
    to the world (OpenGraph description, feed link). No query when the solution's challenge and
    current revision are loaded."""
    anonymous = AnonymousUser()
    if isinstance(target, Solution):
        revision = target.current_revision
        return (
            target.status == Solution.Status.PUBLISHED
            and target.hidden_at is None
            and (revision is None or revision.hidden_at is None)
            and can_view_solution(anonymous, target)
        )
    return can_view_challenge(anonymous, target)


# --- Items hidden by moderation (issue 21) ----------------------------------------------------


def can_see_moderated(user, item) -> bool:
    """Who reads an item (solution, revision, comment) that moderation hid, behind its stub:
    the site's one rule, peerhub.moderation.can_see_hidden."""
    from peerhub.moderation import can_see_hidden

    return can_see_hidden(user, item.author_id)
