"""Framing and running challenges: create, edit, invite, and the guarded lifecycle."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from peerhub import history, languages, limits
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.following import follow_set
from peerhub.models import User, Value
from peerhub.slugs import fallback_slug, unicode_slugify

from .. import history as edit_history
from .. import permissions, social_events
from ..models import Challenge, Criterion, Tag

Status = Challenge.Status

# Each status may move only to the next one; everything else is refused.
TRANSITIONS: dict[str, str] = {
    Status.DRAFT: Status.OPEN,
    Status.OPEN: Status.SELECTING,
    Status.SELECTING: Status.CLOSED,
    Status.CLOSED: Status.ARCHIVED,
}


def _unique_slug(title: str, *, exclude_pk: int | None = None) -> str:
    # Letters of every script stay (issue 22): “清洁的水” is its own address, not “challenge-2”.
    base = unicode_slugify(title)[:70].strip("-") or "challenge"
    slug, n = base, 2
    taken = Challenge.objects.exclude(pk=exclude_pk) if exclude_pk else Challenge.objects.all()
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def tags_from_names(names: Iterable[str]) -> list[Tag]:
    """The tags of these names, made when new. No tag is dropped (issue 22): a name in any
    script keeps its letters in its slug, and one with none at all (“🚰”) gets a stable one."""
    tags = []
    for name in names:
        name = name.strip()[: limits.TAG]
        if not name:
            continue
        slug = unicode_slugify(name)[: limits.TAG].strip("-") or fallback_slug(name, "tag")
        # By name first: a tag made before slugs kept accents (“Café” → “cafe”) is still it.
        tag = Tag.objects.filter(name=name).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name})
            except IntegrityError:  # made at this moment under the same name
                tag = Tag.objects.get(name=name)
        if tag not in tags:
            tags.append(tag)
    return tags


def _normalised_criteria(criteria: Sequence[tuple[str, str] | str]) -> list[tuple[str, str]]:
    """(name, description) pairs as they are stored: trimmed, cut to size, blank names dropped."""
    pairs = [(item, "") if isinstance(item, str) else tuple(item) for item in criteria]
    return [
        (name.strip()[: limits.CRITERION_NAME], description.strip()[: limits.CRITERION_DESCRIPTION])
        for name, description in pairs
        if name.strip()
    ]


def _set_criteria(challenge: Challenge, criteria: Sequence[tuple[str, str] | str]) -> None:
    challenge.criteria.all().delete()
    Criterion.objects.bulk_create(
        Criterion(challenge=challenge, position=position, name=name, description=description)
        for position, (name, description) in enumerate(_normalised_criteria(criteria), start=1)
    )


def _check_visibility(by: User, visibility: str) -> None:
    if visibility == Challenge.Visibility.PRIVATE and not permissions.can_make_challenge_private(
        by
    ):
        raise NotAllowed(
            gettext(
                "Private challenges are a Premium feature: Premium unlocks them for organisers."
            ),
            code="premium_required",
        )


def _check_open_limit(by: User) -> None:
    """Refuse to open one more challenge than `by` may run at once (permissions holds the
    limits). Locks the organiser's row, so that two challenges opened at the same moment by the
    same organiser are counted one after the other and cannot both slip under the limit."""
    limit = permissions.open_challenge_limit(by)
    if limit is None:
        return
    list(User.objects.select_for_update().filter(pk=by.pk).values_list("pk", flat=True))
    running = permissions.open_challenges_run_by(by)
    if running < limit:
        return
    premium = permissions.open_challenge_limits()["premium"]
    if limit < premium:
        raise NotAllowed(
            ngettext(
                "You already run {running} open challenge, as many as the free plan allows: "
                "Premium unlocks up to {premium} at once.",
                "You already run {running} open challenges, as many as the free plan allows: "
                "Premium unlocks up to {premium} at once.",
                running,
            ).format(running=running, premium=premium),
            code="open_limit",
        )
    raise Conflict(
        ngettext(
            "You already run {running} open challenge, the most anyone may run at once: "
            "close one before opening another.",
            "You already run {running} open challenges, the most anyone may run at once: "
            "close one before opening another.",
            running,
        ).format(running=running),
        code="open_limit",
    )


def _check_dates(opens_at: datetime | None, closes_at: datetime | None) -> None:
    if opens_at and closes_at and closes_at <= opens_at:
        raise DomainError(gettext("The challenge must close after it opens."), code="invalid_dates")


@transaction.atomic
def challenge_create(
    *,
    organiser: User,
    title: str,
    summary: str,
    problem: str = "",
    context: str = "",
    criteria: Sequence[tuple[str, str] | str] = (),
    values: Iterable[Value] = (),
    tags: Iterable[str] = (),
    visibility: str = Challenge.Visibility.PUBLIC,
    licence: str = "",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    slug: str = "",
    proposal=None,
    language: str = "",
) -> Challenge:
    """Frame a new challenge as a draft, with its creator as first organiser."""
    if not permissions.can_create_challenge(organiser):
        raise NotAllowed(gettext("Only organisers can frame challenges."))
    _check_visibility(organiser, visibility)
    _check_dates(opens_at, closes_at)
    language = language or settings.LANGUAGE_CODE
    _check_language(language)
    slug = unicode_slugify(slug)[:80].strip("-")
    if slug and Challenge.objects.filter(slug=slug).exists():
        raise DomainError(gettext("That address is taken: choose another slug."), code="slug_taken")
    challenge = Challenge.objects.create(
        slug=slug or _unique_slug(title),
        title=title.strip(),
        summary=summary.strip(),
        problem=problem,
        context=context,
        visibility=visibility,
        licence=licence.strip() or Challenge._meta.get_field("licence").default,
        opens_at=opens_at,
        closes_at=closes_at,
        created_by=organiser,
        proposal=proposal,
        language=language,
    )
    challenge.organisers.add(organiser)
    follow_set(follower=organiser, target=challenge)
    challenge.values.set(values)
    challenge.tags.set(tags_from_names(tags))
    _set_criteria(challenge, criteria)
    return challenge


EDITABLE_FIELDS = {
    "title", "summary", "problem", "context", "visibility", "licence", "opens_at", "closes_at",
    "language",
}  # fmt: skip
# What a translation translates: when one of these changes, translations are older than the brief.
BRIEF_FIELDS = ("title", "summary", "problem", "context", "criteria")


def _check_language(language: str) -> None:
    if not languages.is_known(language):
        raise DomainError(
            gettext("“{language}” is not one of PeerHub's languages ({codes}).").format(
                language=language, codes=", ".join(languages.codes())
            ),
            code="unknown_language",
        )


@transaction.atomic
def challenge_update(
    *,
    challenge: Challenge,
    by: User,
    criteria: Sequence[tuple[str, str] | str] | None = None,
    values: Iterable[Value] | None = None,
    tags: Iterable[str] | None = None,
    **fields,
) -> Challenge:
    """Edit a challenge. Criteria can only change while it is a draft: once open, solutions and
    reviews are judged against them."""
    challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
    if not permissions.can_edit_challenge(by, challenge):
        raise NotAllowed(gettext("Only the challenge's organisers can edit it."))
    before = edit_history.challenge_fields(challenge)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise DomainError(
            gettext("Cannot edit {fields}.").format(fields=", ".join(sorted(unknown)))
        )
    if fields.get("visibility", challenge.visibility) != challenge.visibility:
        _check_visibility(by, fields["visibility"])
    if fields.get("language", challenge.language) != challenge.language:
        _check_language(fields["language"])
        if challenge.translations.filter(language=fields["language"]).exists():
            raise Conflict(
                gettext(
                    "There is a translation into that language: remove it before saying the brief "
                    "is written in it."
                ),
                code="translation_exists",
            )
    for name, value in fields.items():
        setattr(challenge, name, value.strip() if isinstance(value, str) else value)
    _check_dates(challenge.opens_at, challenge.closes_at)
    deadline_moved = "closes_at" in fields and challenge.closes_at is not None
    if challenge.status == Status.OPEN and deadline_moved and challenge.closes_at <= timezone.now():
        raise DomainError(gettext("An open challenge's deadline must be in the future."))
    challenge.save()
    if criteria is not None:
        current = [(c.name, c.description) for c in challenge.criteria.all()]
        if current != _normalised_criteria(criteria):
            if challenge.status != Status.DRAFT:
                raise Conflict(
                    gettext("Success criteria can only change while the challenge is a draft.")
                )
            _set_criteria(challenge, criteria)
    if values is not None:
        challenge.values.set(values)
    if tags is not None:
        challenge.tags.set(tags_from_names(tags))
    after = edit_history.challenge_fields(challenge)
    if any(before[name] != after[name] for name in BRIEF_FIELDS):
        challenge.brief_edited_at = timezone.now()
        challenge.save(update_fields=["brief_edited_at"])
    history.record_edit(
        challenge,
        by=by,
        before=before,
        after=after,
        first_by_id=challenge.created_by_id,
        first_at=challenge.created_at,
    )
    return challenge


def _check_can_open(challenge: Challenge) -> None:
    if not challenge.problem.strip():
        raise DomainError(
            gettext("Describe the problem before opening the challenge."), code="no_problem"
        )
    if not challenge.criteria.exists():
        raise DomainError(
            gettext("Add at least one success criterion before opening the challenge."),
            code="no_criteria",
        )
    if challenge.closes_at and challenge.closes_at <= timezone.now():
        raise DomainError(
            gettext("The deadline has passed: set a later one first."), code="deadline"
        )


@transaction.atomic
def challenge_transition(*, challenge: Challenge, by: User, to: str) -> Challenge:
    """Move a challenge one step along draft → open → selecting → closed → archived.
    Locks the row so two organisers clicking at once cannot skip a step."""
    challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
    if not permissions.can_edit_challenge(by, challenge):
        raise NotAllowed(gettext("Only the challenge's organisers can change its status."))
    if TRANSITIONS.get(challenge.status) != to:
        raise Conflict(
            gettext("A challenge that is {status} cannot become {to}.").format(
                status=str(challenge.get_status_display()).lower(),
                to=str(Status(to).label).lower() if to in Status.values else to,
            ),
            code="invalid_transition",
        )
    if to == Status.OPEN:
        _check_can_open(challenge)
        _check_open_limit(by)
        challenge.opens_at = challenge.opens_at or timezone.now()
    challenge.status = to
    challenge.last_activity_at = timezone.now()
    challenge.save(update_fields=["status", "opens_at", "last_activity_at", "updated_at"])
    social_events.challenge_status_changed(challenge, by=by)
    return challenge


def challenges_close_past_deadline(*, now: datetime | None = None) -> int:
    """Move every open challenge whose deadline has passed to `selecting`. One conditional
    UPDATE: running it twice, or from two workers at once, changes nothing more."""
    now = now or timezone.now()
    due = list(
        Challenge.objects.filter(status=Status.OPEN, closes_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    moved = Challenge.objects.filter(pk__in=due, status=Status.OPEN).update(
        status=Status.SELECTING, last_activity_at=now, updated_at=now
    )
    # Notifications dedupe per challenge and kind: a racing second run notifies no one twice.
    for challenge in Challenge.objects.filter(pk__in=due, status=Status.SELECTING):
        social_events.challenge_status_changed(challenge, by=None)
    return moved


@transaction.atomic
def challenge_invite(*, challenge: Challenge, by: User, member: User) -> None:
    """Invite a member to a (private) challenge: they may then read it and take part."""
    if not permissions.can_edit_challenge(by, challenge):
        raise NotAllowed(gettext("Only the challenge's organisers can invite members."))
    if not member.is_active:
        raise DomainError(gettext("That account is not active."), code="inactive")
    challenge.invited.add(member)


@transaction.atomic
def challenge_uninvite(*, challenge: Challenge, by: User, member: User) -> None:
    if not permissions.can_edit_challenge(by, challenge):
        raise NotAllowed(gettext("Only the challenge's organisers can withdraw invitations."))
    challenge.invited.remove(member)


@transaction.atomic
def challenge_add_organiser(*, challenge: Challenge, by: User, member: User) -> None:
    """Make a member a co-organiser of this challenge (not of others: that is a permission)."""
    if not permissions.can_edit_challenge(by, challenge):
        raise NotAllowed(gettext("Only the challenge's organisers can add organisers."))
    if not member.is_active:
        raise DomainError(gettext("That account is not active."), code="inactive")
    challenge.organisers.add(member)
