"""Organisers translate a challenge's brief into the site's other languages (issue 22)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peerhub import languages
from peerhub.exceptions import DomainError

from .. import permissions, selectors, services
from ..forms import ChallengeTranslationForm
from ..models import ChallengeTranslation
from ..translations import is_outdated
from .base import refuse


def _editable_challenge(request, slug: str):
    challenge = selectors.challenge_get(user=request.user, slug=slug)
    if not permissions.can_edit_challenge(request.user, challenge):
        raise Http404
    return challenge


@login_required
def translation_list(request, slug: str):
    """Every other language, with its translation's state: none yet, up to date or older."""
    challenge = _editable_challenge(request, slug)
    existing = {t.language: t for t in challenge.translations.all()}
    rows = [
        {
            "code": code,
            "name": languages.name(code),
            "translation": existing.get(code),
            "outdated": code in existing and is_outdated(existing[code], challenge),
        }
        for code in languages.codes()
        if code != challenge.language
    ]
    return render(
        request,
        "challenges/translation_list.html",
        {
            "challenge": challenge,
            "rows": rows,
            "original_language_name": languages.name(challenge.language),
        },
    )


def _translation_url(challenge, language: str) -> str:
    return reverse("challenges:translation-edit", args=[challenge.slug, language])


@login_required
def translation_edit(request, slug: str, language: str):
    challenge = _editable_challenge(request, slug)
    if not languages.is_known(language) or language == challenge.language:
        raise Http404
    translation = ChallengeTranslation.objects.filter(
        challenge=challenge, language=language
    ).first()
    initial = ChallengeTranslationForm.initial_for(translation) if translation else {}
    form = ChallengeTranslationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.challenge_translation_save(
                challenge=challenge, by=request.user, language=language, **form.cleaned_data
            )
        except DomainError as error:
            form.add_error("criteria" if error.code == "criteria_count" else None, error.message)
        else:
            messages.success(request, _("Translation saved."))
            return redirect(reverse("challenges:translations", args=[challenge.slug]))
    return render(
        request,
        "challenges/translation_form.html",
        {
            "challenge": challenge,
            "form": form,
            "translation": translation,
            "outdated": translation is not None and is_outdated(translation, challenge),
            "language": language,
            "language_name": languages.name(language),
            "rtl": languages.is_rtl(language),
            "original_language_name": languages.name(challenge.language),
            "original_criteria": challenge.criteria.all(),
        },
    )


@require_POST
@login_required
def translation_delete(request, slug: str, language: str):
    challenge = _editable_challenge(request, slug)
    back = reverse("challenges:translations", args=[challenge.slug])
    try:
        services.challenge_translation_delete(
            challenge=challenge, by=request.user, language=language
        )
    except DomainError as error:
        return refuse(request, error, back)
    messages.success(request, _("Translation removed."))
    return redirect(back)
