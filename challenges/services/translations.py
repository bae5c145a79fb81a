"""Translations of a challenge's brief (issue 22), written by the challenge's organisers: one per
language of settings.LANGUAGES other than the brief's own."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from peerhub import languages, limits
from peerhub.exceptions import DomainError, NotAllowed, NotFound
from peerhub.markdown import render_markdown
from peerhub.models import User

from .. import permissions
from ..models import Challenge, ChallengeTranslation


def check_translation_language(challenge: Challenge, language: str) -> None:
    if not languages.is_known(language):
        raise DomainError(
            gettext("“{language}” is not one of PeerHub's languages ({codes}).").format(
                language=language, codes=", ".join(languages.codes())
            ),
            code="unknown_language",
        )
    if language == challenge.language:
        raise DomainError(
            gettext("The brief is written in that language: edit the challenge instead."),
            code="original_language",
        )


def _criteria(challenge: Challenge, criteria: Sequence[tuple[str, str]]) -> list[dict]:
    """The translated criteria, as many as the challenge has (or none: then readers see the
    original ones)."""
    pairs = [(name.strip(), description.strip()) for name, description in criteria]
    pairs = [(name, description) for name, description in pairs if name or description]
    if not pairs:
        return []
    if len(pairs) != challenge.criteria.count():
        raise DomainError(
            gettext("Translate every success criterion, one per line in the same order, or none."),
            code="criteria_count",
        )
    if any(not name for name, _ in pairs):
        raise DomainError(gettext("Each translated criterion needs a name."), code="criteria_count")
    return [
        {
            "name": name[: limits.CRITERION_NAME],
            "description": description[: limits.CRITERION_DESCRIPTION],
        }
        for name, description in pairs
    ]


@transaction.atomic
def challenge_translation_save(
    *,
    challenge: Challenge,
    by: User,
    language: str,
    title: str,
    summary: str,
    problem: str = "",
    context: str = "",
    criteria: Sequence[tuple[str, str]] = (),
) -> ChallengeTranslation:
    """Add or replace the brief's translation into `language`. Whoever may edit the challenge
    may translate it. Locks the challenge, as its edits do, so a change of the brief's own
    language cannot slip in between the check and the write."""
    challenge = Challenge.objects.select_for_update().get(pk=challenge.pk)
    if not permissions.can_edit_challenge(by, challenge):
        raise NotAllowed(gettext("Only the challenge's organisers can translate its brief."))
    check_translation_language(challenge, language)
    if not title.strip() or not summary.strip():
        raise DomainError(gettext("A translation needs a title and a summary."), code="incomplete")
    now = timezone.now()
    fields = {
        "title": title.strip()[: limits.TITLE],
        "summary": summary.strip()[: limits.SUMMARY],
        "problem": problem,
        "problem_html": render_markdown(problem),
        "context": context,
        "context_html": render_markdown(context),
        "criteria": _criteria(challenge, criteria),
        "translated_by": by,
        "updated_at": now,
    }
    translation, _created = ChallengeTranslation.objects.update_or_create(
        challenge=challenge,
        language=language,
        defaults=fields,
        create_defaults={**fields, "created_at": now},
    )
    return translation


@transaction.atomic
def challenge_translation_delete(*, challenge: Challenge, by: User, language: str) -> None:
    if not permissions.can_edit_challenge(by, challenge):
        raise NotAllowed(gettext("Only the challenge's organisers can remove its translations."))
    if not languages.is_known(language):
        check_translation_language(challenge, language)
    deleted, _ = ChallengeTranslation.objects.filter(
        challenge=challenge, language=language
    ).delete()
    if not deleted:
        raise NotFound(gettext("There is no translation into that language."))
