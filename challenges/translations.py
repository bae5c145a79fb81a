"""What a reader sees of a challenge's brief (issue 22): the translation into their language when
the organisers wrote one, else the original; `?original=1` asks for the original. A translation
older than the brief's last edit says so."""

from dataclasses import dataclass

from django.db.models import FilteredRelation, Q, QuerySet
from django.utils.safestring import SafeString

from peerhub import languages
from peerhub.markdown import render_markdown

from .models import Challenge, ChallengeTranslation

READER_TRANSLATION = "reader_translation"


def with_reader_translation(queryset: QuerySet[Challenge], language: str) -> QuerySet[Challenge]:
    """Join each challenge's translation into `language` (at most one: a unique constraint), so
    the page reads it in the challenge's own query."""
    return queryset.annotate(
        **{
            READER_TRANSLATION: FilteredRelation(
                "translations", condition=Q(translations__language=language)
            )
        }
    ).select_related(READER_TRANSLATION)


def reader_translation(challenge: Challenge, language: str) -> ChallengeTranslation | None:
    """The challenge's translation into `language`, from the join when the selector made it."""
    if language == challenge.language:
        return None
    if READER_TRANSLATION in challenge._state.fields_cache:
        found = challenge._state.fields_cache[READER_TRANSLATION]
        if found is None or found.language == language:
            return found
    return ChallengeTranslation.objects.filter(challenge=challenge, language=language).first()


@dataclass(frozen=True)
class Brief:
    title: str
    summary: str
    problem: SafeString
    context: SafeString
    criteria: list[tuple[str, str]]
    language: str  # the language the reader sees it in
    # A translation that leaves a part out shows the original's, in the original's language.
    problem_language: str
    context_language: str
    criteria_language: str
    original_language: str
    translated: bool  # the reader sees a translation
    translation_available: bool  # one exists in the reader's language (shown or not)
    outdated: bool  # the translation shown is older than the brief's last edit

    @property
    def rtl(self) -> bool:
        return languages.is_rtl(self.language)

    @property
    def problem_rtl(self) -> bool:
        return languages.is_rtl(self.problem_language)

    @property
    def context_rtl(self) -> bool:
        return languages.is_rtl(self.context_language)

    @property
    def criteria_rtl(self) -> bool:
        return languages.is_rtl(self.criteria_language)

    @property
    def original_language_name(self) -> str:
        return languages.name(self.original_language)

    @property
    def language_name(self) -> str:
        return languages.name(self.language)


def is_outdated(translation: ChallengeTranslation, challenge: Challenge) -> bool:
    return translation.updated_at < challenge.brief_edited_at


def brief_for(challenge: Challenge, *, language: str, original: bool = False) -> Brief:
    """The brief as the reader of `language` sees it. Criteria come from the prefetched rows;
    a translation's criteria name them in the same order."""
    criteria = [(c.name, c.description) for c in challenge.criteria.all()]
    translation = reader_translation(challenge, language)
    if translation is None or original:
        return Brief(
            title=challenge.title,
            summary=challenge.summary,
            problem=render_markdown(challenge.problem),
            context=render_markdown(challenge.context),
            criteria=criteria,
            language=challenge.language,
            problem_language=challenge.language,
            context_language=challenge.language,
            criteria_language=challenge.language,
            original_language=challenge.language,
            translated=False,
            translation_available=translation is not None,
            outdated=False,
        )
    translated_criteria = [
        (item.get("name", ""), item.get("description", "")) for item in translation.criteria
    ]
    own, theirs = translation.language, challenge.language
    criteria_language = own
    if not translated_criteria or len(translated_criteria) != len(criteria):
        # None translated, or the criteria changed since: the original ones.
        translated_criteria, criteria_language = criteria, theirs
    problem, problem_language = translation.rendered_problem, own
    if not translation.problem.strip():
        problem, problem_language = render_markdown(challenge.problem), theirs
    context, context_language = translation.rendered_context, own
    if not translation.context.strip():
        context, context_language = render_markdown(challenge.context), theirs
    return Brief(
        title=translation.title,
        summary=translation.summary,
        problem=problem,
        context=context,
        criteria=translated_criteria,
        language=own,
        problem_language=problem_language,
        context_language=context_language,
        criteria_language=criteria_language,
        original_language=challenge.language,
        translated=True,
        translation_available=True,
        outdated=is_outdated(translation, challenge),
    )
