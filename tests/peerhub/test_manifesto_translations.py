"""The manifesto's translations (issue 22): staff write them in the admin, readers see their
language's with a switch to the original and a note when the original changed since."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from peerhub.models import ManifestoTranslation, ManifestoVersion
from tests.factories import ManifestoVersionFactory, UserFactory

pytestmark = pytest.mark.django_db

SPANISH = {
    "title": "Construir unos sobre otros",
    "preamble": "Resolvemos problemas reales **juntos**.",
    "body": "## Por qué\n\nPorque las buenas ideas necesitan muchas manos.",
}


@pytest.fixture
def manifesto():
    return ManifestoVersionFactory(number=1)


def spanish(manifesto, **fields):
    return ManifestoTranslation.objects.create(
        version=manifesto, language="es", **{**SPANISH, **fields}
    )


def admin_form(manifesto, *translations) -> dict:
    """The admin's change form of a version, with these translations in its inline."""
    data = {
        "number": manifesto.number,
        "title": manifesto.title,
        "preamble": manifesto.preamble,
        "body": manifesto.body,
        "published_at_0": manifesto.published_at.strftime("%Y-%m-%d"),
        "published_at_1": manifesto.published_at.strftime("%H:%M:%S"),
        "translations-TOTAL_FORMS": len(translations),
        "translations-INITIAL_FORMS": 0,
        "translations-MIN_NUM_FORMS": 0,
        "translations-MAX_NUM_FORMS": 1000,
    }
    for i, translation in enumerate(translations):
        data.update({f"translations-{i}-{key}": value for key, value in translation.items()})
        data[f"translations-{i}-version"] = manifesto.pk
    return data


def test_staff_translate_the_manifesto_in_the_admin(client, staff_user, manifesto):
    client.force_login(staff_user)
    url = reverse("admin:peerhub_manifestoversion_change", args=[manifesto.pk])
    assert "translations-TOTAL_FORMS" in client.get(url).content.decode()
    response = client.post(url, admin_form(manifesto, {"language": "es", **SPANISH}))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ManifestoTranslation.objects.get(version=manifesto).title == SPANISH["title"]


def test_the_admin_refuses_a_translation_into_the_original_language(client, staff_user, manifesto):
    client.force_login(staff_user)
    url = reverse("admin:peerhub_manifestoversion_change", args=[manifesto.pk])
    response = client.post(url, admin_form(manifesto, {"language": "en", **SPANISH}))
    assert response.status_code == 200
    assert not ManifestoTranslation.objects.exists()


def test_members_cannot_reach_the_manifestos_admin(client, manifesto):
    client.force_login(UserFactory())
    url = reverse("admin:peerhub_manifestoversion_change", args=[manifesto.pk])
    response = client.post(url, admin_form(manifesto, {"language": "es", **SPANISH}))
    assert response.status_code == 302 and "login" in response["Location"]
    assert not ManifestoTranslation.objects.exists()


def test_the_database_holds_one_translation_per_language_and_none_in_the_original(manifesto):
    spanish(manifesto)
    with pytest.raises(IntegrityError), transaction.atomic():
        spanish(manifesto)
    with pytest.raises(IntegrityError), transaction.atomic():
        ManifestoTranslation.objects.create(version=manifesto, language="en", **SPANISH)
    with pytest.raises(ValidationError):
        ManifestoTranslation(version=manifesto, language="en", **SPANISH).full_clean()


def test_a_spanish_reader_sees_the_translation_and_can_switch_to_the_original(client, manifesto):
    spanish(manifesto)
    page = client.get(reverse("manifesto"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert SPANISH["title"] in page and "<strong>juntos</strong>" in page
    assert manifesto.title not in page
    assert '<h1 lang="es">' in page
    assert 'href="?original=1"' in page and "Ver el original (English)" in page
    assert "status-outdated" not in page
    original = client.get(reverse("manifesto") + "?original=1", HTTP_ACCEPT_LANGUAGE="es")
    assert manifesto.title in original.content.decode()
    assert SPANISH["title"] not in original.content.decode()


def test_the_home_page_shows_the_readers_preamble(client, manifesto):
    spanish(manifesto)
    home = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "<strong>juntos</strong>" in home
    english = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<strong>juntos</strong>" not in english and "<strong>together</strong>" in english


def test_readers_of_other_languages_see_the_original(client, manifesto):
    spanish(manifesto)
    for language in ("en", "fr"):
        page = client.get(reverse("manifesto"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert manifesto.title in page and SPANISH["title"] not in page


def test_a_translation_older_than_the_original_says_so(client, staff_user, manifesto):
    translation = spanish(manifesto)
    client.force_login(staff_user)
    url = reverse("admin:peerhub_manifestoversion_change", args=[manifesto.pk])
    data = admin_form(manifesto)
    data["translations-INITIAL_FORMS"] = 0
    data["body"] = manifesto.body + "\n\nOne more paragraph."
    assert client.post(url, data).status_code == 302
    assert ManifestoVersion.objects.get(pk=manifesto.pk).text_edited_at > translation.updated_at
    client.logout()
    page = client.get(reverse("manifesto"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert SPANISH["title"] in page and "status-outdated" in page


def test_saving_a_translation_again_makes_it_current(client, manifesto):
    translation = spanish(manifesto)
    ManifestoVersion.objects.filter(pk=manifesto.pk).update(
        text_edited_at=translation.updated_at + timedelta(microseconds=1)
    )
    assert (
        "status-outdated"
        in client.get(reverse("manifesto"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    )
    translation.save()
    page = client.get(reverse("manifesto"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "status-outdated" not in page


def test_the_translation_costs_the_manifesto_page_no_query(client, manifesto):
    def queries() -> int:
        client.get(reverse("manifesto"), HTTP_ACCEPT_LANGUAGE="es")
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("manifesto"), HTTP_ACCEPT_LANGUAGE="es")
        return len(captured)

    before = queries()
    spanish(manifesto)
    assert queries() == before


def test_the_cached_home_page_shows_a_new_translation_at_once(client, settings, manifesto):
    settings.PEERHUB_PAGE_CACHE = True
    for _ in range(2):
        home = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="es")
    assert home.headers["X-Page-Cache"] == "hit"
    spanish(manifesto)
    fresh = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="es")
    assert fresh.headers["X-Page-Cache"] == "miss"
    assert "<strong>juntos</strong>" in fresh.content.decode()
