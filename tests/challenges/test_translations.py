"""Translations of a challenge's brief (issue 22): organisers write them, readers see their
language's with a switch to the original, the page cache keeps one page per language, and the
API reads and writes them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from challenges import services
from challenges.models import Challenge, ChallengeTranslation
from peerhub.exceptions import Conflict, DomainError, NotAllowed, NotFound
from tests.factories import ChallengeFactory, UserFactory, make_organiser

pytestmark = pytest.mark.django_db

SPANISH = {
    "title": "Agua limpia para el valle",
    "summary": "Filtros que cualquiera pueda construir.",
    "problem": "El **problema**, en español.",
    "context": "Por qué importa.",
}


def translate(challenge, *, by=None, language="es", **fields):
    return services.challenge_translation_save(
        challenge=challenge,
        by=by or challenge.created_by,
        language=language,
        **{**SPANISH, **fields},
    )


@pytest.fixture
def challenge():
    return ChallengeFactory(title="Clean water for the valley", summary="Filters anyone can build.")


# --- The rules (services) ----------------------------------------------------------------------


def test_an_organiser_translates_the_brief_rendered_when_written(challenge):
    translation = translate(challenge, criteria=[("Funciona", "De verdad"), ("Barato", "")])
    assert translation.title == SPANISH["title"]
    assert "<strong>problema</strong>" in translation.problem_html
    assert translation.criteria == [
        {"name": "Funciona", "description": "De verdad"},
        {"name": "Barato", "description": ""},
    ]
    assert translation.translated_by == challenge.created_by


def test_saving_again_replaces_the_translation(challenge):
    translate(challenge)
    translate(challenge, title="Agua potable")
    assert ChallengeTranslation.objects.get(challenge=challenge).title == "Agua potable"


def test_a_co_organiser_and_staff_may_translate_other_members_may_not(challenge):
    co = make_organiser()
    challenge.organisers.add(co)
    translate(challenge, by=co)
    translate(challenge, by=UserFactory(is_staff=True), language="fr")
    with pytest.raises(NotAllowed):
        translate(challenge, by=UserFactory(), language="ar")
    with pytest.raises(NotAllowed):  # an organiser of other challenges, not of this one
        translate(challenge, by=make_organiser(), language="ar")
    assert ChallengeTranslation.objects.filter(language="ar").count() == 0


@pytest.mark.parametrize("language", ["de", "EN", "", "es-mx"])
def test_only_the_sites_languages_can_be_translated_into(challenge, language):
    with pytest.raises(DomainError) as refused:
        translate(challenge, language=language)
    assert refused.value.code == "unknown_language"


def test_the_briefs_own_language_is_not_a_translation(challenge):
    with pytest.raises(DomainError) as refused:
        translate(challenge, language="en")
    assert refused.value.code == "original_language"


def test_translated_criteria_are_all_of_them_or_none(challenge):
    with pytest.raises(DomainError) as refused:
        translate(challenge, criteria=[("Solo uno", "")])
    assert refused.value.code == "criteria_count"
    assert translate(challenge, criteria=[]).criteria == []


def test_a_title_and_a_summary_are_required(challenge):
    with pytest.raises(DomainError):
        translate(challenge, title="  ")


def test_editing_the_brief_makes_older_translations_outdated_other_edits_do_not(challenge):
    translation = translate(challenge)
    before = Challenge.objects.get(pk=challenge.pk).brief_edited_at
    services.challenge_update(challenge=challenge, by=challenge.created_by, licence="CC0")
    assert Challenge.objects.get(pk=challenge.pk).brief_edited_at == before
    services.challenge_update(challenge=challenge, by=challenge.created_by, summary="New words.")
    challenge.refresh_from_db()
    assert challenge.brief_edited_at > translation.updated_at


def test_the_brief_cannot_claim_a_language_it_has_a_translation_into(challenge):
    translate(challenge)
    with pytest.raises(Conflict):
        services.challenge_update(challenge=challenge, by=challenge.created_by, language="es")
    services.challenge_update(challenge=challenge, by=challenge.created_by, language="fr")
    assert Challenge.objects.get(pk=challenge.pk).language == "fr"
    # The edit history says so.
    from peerhub import history

    latest = history.versions(challenge)[-1]
    assert latest.fields["language"] == "Français"


def test_removing_a_translation(challenge):
    translate(challenge)
    with pytest.raises(NotAllowed):
        services.challenge_translation_delete(challenge=challenge, by=UserFactory(), language="es")
    services.challenge_translation_delete(
        challenge=challenge, by=challenge.created_by, language="es"
    )
    with pytest.raises(NotFound):
        services.challenge_translation_delete(
            challenge=challenge, by=challenge.created_by, language="es"
        )


# --- What readers see --------------------------------------------------------------------------


def test_a_spanish_reader_sees_the_translation_with_a_switch_to_the_original(client, challenge):
    translate(challenge, criteria=[("Funciona", ""), ("Barato", "")])
    page = client.get(challenge.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert SPANISH["title"] in page and "Clean water for the valley" not in page
    assert "<strong>problema</strong>" in page
    assert "Funciona" in page and "Affordable" not in page
    assert 'lang="es"' in page
    assert 'href="?original=1"' in page
    assert "Ver el original (English)" in page  # the page speaks Spanish; the name its own
    assert "older than the original" not in page


def test_the_original_switch_shows_the_original(client, challenge):
    translate(challenge)
    url = challenge.get_absolute_url() + "?original=1"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Clean water for the valley" in page and SPANISH["title"] not in page
    assert '<div class="brief-head" lang="en"' in page
    assert f'href="{challenge.get_absolute_url()}"' in page  # back to the translation


def test_an_english_reader_and_a_reader_without_a_translation_see_the_original(client, challenge):
    translate(challenge)
    for language in ("en", "fr"):
        page = client.get(challenge.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
        assert "Clean water for the valley" in page.content.decode()
        assert SPANISH["title"] not in page.content.decode()
        assert "?original=1" not in page.content.decode()


def test_a_translation_older_than_the_briefs_last_edit_says_so(client, challenge):
    translation = translate(challenge)
    Challenge.objects.filter(pk=challenge.pk).update(
        brief_edited_at=translation.updated_at + timedelta(minutes=1)
    )
    page = client.get(challenge.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert SPANISH["title"] in page
    assert "status-outdated" in page


def test_an_arabic_translation_reads_right_to_left(client, challenge):
    translate(challenge, language="ar", title="مياه نظيفة للوادي")
    page = client.get(challenge.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert '<div class="brief-head" lang="ar" dir="rtl">' in page


def test_the_translation_costs_the_challenge_page_no_query(client, challenge, page_cache_off):
    """Read in the challenge's own query (a filtered join), not one more."""
    url = challenge.get_absolute_url()

    def queries() -> tuple[int, str]:
        client.get(url, HTTP_ACCEPT_LANGUAGE="es")  # the first request may fill caches
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
        return len(captured), page.content.decode()

    untranslated, _ = queries()
    translate(challenge)
    translated, page = queries()
    assert SPANISH["title"] in page
    assert untranslated > 0 and translated == untranslated


def test_each_language_gets_its_page_from_the_cache_and_a_translation_edit_refreshes_it(
    client, settings, challenge
):
    settings.PEERHUB_PAGE_CACHE = True
    translate(challenge)
    url = challenge.get_absolute_url()
    for _ in range(2):
        spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
        english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert spanish.headers["X-Page-Cache"] == "hit" and english.headers["X-Page-Cache"] == "hit"
    assert SPANISH["title"] in spanish.content.decode()
    assert "Clean water for the valley" in english.content.decode()
    assert SPANISH["title"] not in english.content.decode()

    translate(challenge, title="Agua potable para el valle")
    fresh = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    assert fresh.headers["X-Page-Cache"] == "miss"
    assert "Agua potable para el valle" in fresh.content.decode()
    original = client.get(url + "?original=1", HTTP_ACCEPT_LANGUAGE="es")
    assert "Clean water for the valley" in original.content.decode()


# --- The organisers' pages ---------------------------------------------------------------------


def test_the_organiser_tools_link_the_translations_page(client, challenge):
    client.force_login(challenge.created_by)
    page = client.get(challenge.get_absolute_url()).content.decode()
    assert reverse("challenges:translations", args=[challenge.slug]) in page


def test_an_organiser_translates_through_the_form(client, challenge):
    client.force_login(challenge.created_by)
    listing = client.get(reverse("challenges:translations", args=[challenge.slug]))
    assert listing.status_code == 200
    assert reverse("challenges:translation-edit", args=[challenge.slug, "es"]) in (
        listing.content.decode()
    )
    url = reverse("challenges:translation-edit", args=[challenge.slug, "es"])
    form = client.get(url)
    assert form.content.decode().count("data-md-editor") == 2  # the problem and why it matters
    response = client.post(url, {**SPANISH, "criteria": "Funciona: de verdad\nBarato"})
    assert response.status_code == 302
    translation = ChallengeTranslation.objects.get(challenge=challenge, language="es")
    assert translation.criteria[0] == {"name": "Funciona", "description": "de verdad"}
    edit = client.get(url).content.decode()
    assert SPANISH["title"] in edit


def test_the_form_says_what_is_wrong_with_the_criteria(client, challenge):
    client.force_login(challenge.created_by)
    url = reverse("challenges:translation-edit", args=[challenge.slug, "es"])
    response = client.post(url, {**SPANISH, "criteria": "Solo uno"})
    assert response.status_code == 200
    assert "every success criterion" in response.content.decode()
    assert not ChallengeTranslation.objects.exists()


def test_an_organiser_removes_a_translation(client, challenge):
    translate(challenge)
    client.force_login(challenge.created_by)
    url = reverse("challenges:translation-delete", args=[challenge.slug, "es"])
    assert client.post(url).status_code == 302
    assert not ChallengeTranslation.objects.exists()


@pytest.mark.parametrize("language", ["de", "en"])
def test_no_form_for_a_foreign_language_or_the_original(client, challenge, language):
    client.force_login(challenge.created_by)
    url = reverse("challenges:translation-edit", args=[challenge.slug, language])
    assert client.get(url).status_code == 404


def test_other_members_and_visitors_cannot_reach_the_translation_pages(client, challenge):
    pages = [
        ("get", reverse("challenges:translations", args=[challenge.slug])),
        ("get", reverse("challenges:translation-edit", args=[challenge.slug, "es"])),
        ("post", reverse("challenges:translation-edit", args=[challenge.slug, "es"])),
        ("post", reverse("challenges:translation-delete", args=[challenge.slug, "es"])),
    ]
    for method, url in pages:
        response = getattr(client, method)(url, SPANISH if method == "post" else None)
        assert response.status_code == 302 and "login" in response["Location"], url
    client.force_login(UserFactory())
    for method, url in pages:
        assert (
            getattr(client, method)(url, SPANISH if method == "post" else None).status_code == 404
        )
    assert not ChallengeTranslation.objects.exists()


def test_organisers_set_the_briefs_language_in_the_challenge_form(client, challenge):
    client.force_login(challenge.created_by)
    url = reverse("challenges:edit", args=[challenge.slug])
    assert 'name="language"' in client.get(url).content.decode()
    from challenges.forms import ChallengeForm

    data = {k: v for k, v in ChallengeForm.initial_for(challenge).items() if v is not None}
    data.update(language="pt-br", values=[], criteria=data["criteria"])
    assert client.post(url, data).status_code == 302
    assert Challenge.objects.get(pk=challenge.pk).language == "pt-br"


# --- The API -----------------------------------------------------------------------------------


def api_url(challenge, language="es"):
    return reverse("api-challenge-translation", args=[challenge.slug, language])


def test_the_api_challenge_shows_its_language_and_translations(api_client, challenge):
    translate(challenge)
    data = api_client.get(reverse("api-challenge-detail", args=[challenge.slug])).json()
    assert data["language"] == "en"
    assert [t["language"] for t in data["translations"]] == ["es"]
    assert data["translations"][0]["title"] == SPANISH["title"]
    assert data["translations"][0]["outdated"] is False
    listed = api_client.get(reverse("api-challenge-list")).json()["results"][0]
    assert listed["language"] == "en" and "translations" not in listed


def test_an_organiser_puts_and_deletes_a_translation_through_the_api(api_client, challenge):
    api_client.force_authenticate(challenge.created_by)
    body = {**SPANISH, "criteria": [{"name": "Funciona"}, {"name": "Barato", "description": "Sí"}]}
    response = api_client.put(api_url(challenge), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["criteria"][1] == {"name": "Barato", "description": "Sí"}
    assert api_client.get(api_url(challenge)).json()["title"] == SPANISH["title"]
    assert api_client.delete(api_url(challenge)).status_code == 204
    missing = api_client.delete(api_url(challenge))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("language", "code"), [("xx", "unknown_language"), ("en", "original_language")]
)
def test_the_api_refuses_bad_languages_with_json(api_client, challenge, language, code):
    api_client.force_authenticate(challenge.created_by)
    response = api_client.put(api_url(challenge, language), SPANISH, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_the_api_refuses_members_who_do_not_organise_and_visitors(api_client, challenge):
    anonymous = api_client.put(api_url(challenge), SPANISH, format="json")
    assert anonymous.status_code in (401, 403)
    api_client.force_authenticate(UserFactory())
    member = api_client.put(api_url(challenge), SPANISH, format="json")
    assert member.status_code == 403 and member.json()["error"]["code"] == "forbidden"
    translate(challenge)
    assert api_client.delete(api_url(challenge)).status_code == 403
    assert ChallengeTranslation.objects.count() == 1


def test_the_api_sets_the_briefs_language(api_client, challenge):
    api_client.force_authenticate(challenge.created_by)
    url = reverse("api-challenge-detail", args=[challenge.slug])
    assert api_client.patch(url, {"language": "ar"}, format="json").json()["language"] == "ar"
    bad = api_client.patch(url, {"language": "xx"}, format="json")
    assert bad.status_code == 400


def test_the_translation_endpoint_is_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/challenges/{slug}/translations/{language}/" in schema


def test_a_private_challenges_translations_stay_hidden(api_client):
    from tests.factories import make_premium_organiser

    organiser = make_premium_organiser()
    challenge = ChallengeFactory(
        created_by=organiser, visibility=Challenge.Visibility.PRIVATE, organisers=[organiser]
    )
    translate(challenge, by=organiser)
    assert api_client.get(api_url(challenge)).status_code == 404
    api_client.force_authenticate(UserFactory())
    assert api_client.get(api_url(challenge)).status_code == 404


def test_a_part_left_untranslated_shows_the_originals_in_its_language(client, challenge):
    translate(challenge, language="ar", title="مياه نظيفة", problem="", criteria=[])
    page = client.get(challenge.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "مياه نظيفة" in page
    assert '<div lang="en"><p>The <strong>problem</strong>, in Markdown.</p>' in page
    assert '<ol class="criteria-list" lang="en">' in page
