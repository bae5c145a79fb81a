"""A reader's language and time zone (issue 22, peerhub.locales): members choose theirs on the
settings page or through the API; visitors get Accept-Language and their browser's zone."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from peerhub import locales
from peerhub.models import User
from tests.factories import UserFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def zone_seen_by_view(request) -> str:
    """The time zone a view would render in, after the middleware ran for `request`."""
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return None

    locales.ReaderLocaleMiddleware(view)(request)
    return seen["zone"]


def test_a_members_language_wins_over_their_browsers(client):
    member = UserFactory(language="fr")
    client.force_login(member)
    response = client.get(reverse("challenges:list"), HTTP_ACCEPT_LANGUAGE="es")
    assert response["Content-Language"] == "fr"


def test_a_member_without_a_language_gets_what_their_browser_asks_for(client):
    client.force_login(UserFactory(language=""))
    response = client.get(reverse("challenges:list"), HTTP_ACCEPT_LANGUAGE="es")
    assert response["Content-Language"] == "es"


def test_a_members_time_zone_is_active_during_their_request():
    request = RequestFactory().get("/")
    request.user = UserFactory(time_zone="Asia/Tokyo")
    request.COOKIES[locales.TIME_ZONE_COOKIE] = "Europe/Paris"  # the member's setting wins
    assert zone_seen_by_view(request) == "Asia/Tokyo"
    assert timezone.get_current_timezone_name() == "UTC"  # reset afterwards


def test_a_visitors_time_zone_comes_from_the_browsers_cookie():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.COOKIES[locales.TIME_ZONE_COOKIE] = "America/Sao_Paulo"
    assert zone_seen_by_view(request) == "America/Sao_Paulo"
    request.COOKIES[locales.TIME_ZONE_COOKIE] = "../../etc/passwd"
    assert zone_seen_by_view(request) == "UTC"


def test_the_settings_page_saves_language_and_time_zone(member_client):
    page = member_client.get(reverse("profile-edit")).content.decode()
    assert 'name="time_zone"' in page and "America/Sao_Paulo" in page
    assert ">العربية<" in page and ">Français<" in page  # each language in its own name
    response = member_client.post(
        reverse("profile-edit"),
        {
            "display_name": "Ana",
            "bio": "",
            "skills": "",
            "language": "pt-br",
            "time_zone": "America/Sao_Paulo",
        },
    )
    assert response.status_code == 302
    member = User.objects.get(pk=member_client.user.pk)
    assert (member.language, member.time_zone) == ("pt-br", "America/Sao_Paulo")


def test_the_settings_page_refuses_an_unknown_zone_or_language(member_client):
    response = member_client.post(
        reverse("profile-edit"),
        {"display_name": "Ana", "language": "xx", "time_zone": "Mars/Base"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"language", "time_zone"}
    member = User.objects.get(pk=member_client.user.pk)
    assert (member.language, member.time_zone) == ("", "UTC")


def test_the_api_shows_and_changes_language_and_time_zone(member_api_client):
    url = reverse("api-me")
    body = member_api_client.get(url).json()
    assert (body["language"], body["time_zone"]) == ("", "UTC")
    response = member_api_client.patch(
        url, {"language": "ar", "time_zone": "Africa/Cairo"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["language"], response.json()["time_zone"]) == ("ar", "Africa/Cairo")
    member = User.objects.get(pk=member_api_client.user.pk)
    assert (member.language, member.time_zone) == ("ar", "Africa/Cairo")


@pytest.mark.parametrize(
    "body", [{"time_zone": "Nowhere/Special"}, {"language": "de"}, {"time_zone": ""}]
)
def test_the_api_refuses_an_unknown_zone_or_language(member_api_client, body):
    assert_error(member_api_client.patch(reverse("api-me"), body, format="json"), 400)
    member = User.objects.get(pk=member_api_client.user.pk)
    assert (member.language, member.time_zone) == ("", "UTC")


def test_a_new_member_starts_in_their_browsers_time_zone(client, mailoutbox):
    client.cookies[locales.TIME_ZONE_COOKIE] = "Europe/Madrid"
    client.post(
        reverse("account_signup"),
        {
            "email": "newcomer@example.org",
            "username": "newcomer",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )
    assert User.objects.get(username="newcomer").time_zone == "Europe/Madrid"


# --- The language chooser and the page's language and direction ------------------------------


def test_the_chooser_is_in_the_header_and_the_footer_with_labels(client):
    html = client.get(reverse("home")).content.decode()
    assert html.count(f'action="{reverse("set_language")}"') == 2
    for where in ("header", "footer"):
        assert f'<label for="language-{where}">' in html
        assert f'<select id="language-{where}" name="language">' in html
    assert '<option value="ar" lang="ar">العربية</option>' in html
    assert '<option value="en" lang="en" selected>English</option>' in html


def test_a_visitor_chooses_a_language_and_the_pages_follow(client):
    url = reverse("challenges:list")
    response = client.post(reverse("set_language"), {"language": "fr", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url)
    assert page["Content-Language"] == "fr"
    assert '<html lang="fr" dir="ltr">' in page.content.decode()


def test_arabic_pages_are_right_to_left(client):
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert '<option value="ar" lang="ar" selected>' in html


def test_a_members_choice_is_saved_to_their_settings(member_client):
    member_client.post(reverse("set_language"), {"language": "es", "next": "/"})
    member = User.objects.get(pk=member_client.user.pk)
    assert member.language == "es"
    # It follows them where no cookie does (another browser): the page is in Spanish.
    other = type(member_client)()
    other.force_login(member)
    assert other.get(reverse("challenges:list"))["Content-Language"] == "es"


def test_an_unknown_language_changes_nothing(member_client):
    response = member_client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=member_client.user.pk).language == ""
    assert member_client.get(reverse("set_language")).status_code == 405


def test_an_api_token_request_runs_in_the_members_language(api_client):
    """DRF reads a token after every middleware: its authentication applies the member's
    language, as a signed-in page gets it, whatever the client's Accept-Language."""
    from peerhub import tokens

    member = UserFactory(language="fr", time_zone="Asia/Tokyo")
    issued = tokens.token_create(user=member, name="cli", scopes=["write"], expires_in_days=30)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")
    answer = api_client.get("/api/me/", HTTP_ACCEPT_LANGUAGE="es")
    assert answer.status_code == 200
    assert answer["Content-Language"] == "fr"
    refused = api_client.patch(
        "/api/me/", {"time_zone": "Mars/Olympus"}, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert refused.status_code == 400
    assert "n’est pas un nom de fuseau horaire" in str(refused.json())  # noqa: RUF001
