"""The account's own pages in every shipped language (issue 22): the settings (API tokens, your
data, deleting the account), unsubscribing, the not-found and not-allowed pages and allauth's
sign-in page in the site's layout, the notification, digest and data export e-mails in the
recipient's language, and the API's own error messages (cursor paging, a bad token, a write
limit, a NUL character) in the reader's language, with their codes unchanged."""

import secrets
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from peerhub.models import DataExport, Notification
from peerhub.notifications import emails, notify
from peerhub.notifications import services as notification_services
from peerhub.throttles import WriteLimited, write_spend
from peerhub.tokens import token_create
from tests.factories import UserFactory, make_solution
from tests.helpers import clear_caches
from tests.peerhub.test_chrome_languages import LANGUAGES, main

pytestmark = pytest.mark.django_db

# The settings navigation (allauth/layouts/manage.html), on every settings page.
SETTINGS_ENGLISH = [
    'aria-label="Account settings"',
    ">Settings<",
    ">E-mail addresses<",
    ">Two-factor authentication<",
    ">API tokens<",
    ">Muted and blocked<",
    ">Your data<",
    ">Delete account<",
]

PAGE_ENGLISH = {
    # the tokens page, just after making a token, with one more token listed
    "tokens": [
        "A personal access token lets a script",
        "Your new token",
        "Copy it now",
        "cannot show it again",
        "Your tokens",
        ">Created<",
        ">Expires<",
        ">Last used<",
        "Revoke the token",
        ">Revoke<",
        "New token",
        "Create token",
        "What will use it",
        "Give a token only what its script needs.",
        "everything you can see",
        "create, change and delete as you",
        "never (not advised)",
        ">in 30 days<",
        "Read: everything",
        ">Expires:</label>",
    ],
    # the data page, with a ready export, an expired one and one that failed
    "data": [
        "Take a copy of everything",
        "We build the archive in the background",
        "You can ask for one export every",
        "Request an export",
        "You can ask for your next export after",
        "Your exports",
        "Export of ",
        "Ready to download",
        ">Download ",
        "the export of ",
        "The link works until",
        "Something went wrong while building it",
        "Its link expired on",
    ],
    "delete": [
        "Delete your account",
        "You can leave PeerHub at any time",
        "signing in again cancels the deletion",
        "What is erased",
        "What stays",
        "no one can sign in as you again",
        "Your offers are paused",
        "Every line of the reputation ledger",
        "Leave PeerHub",
        "Also remove my drafts",
        "Your password",
        "To confirm that it is you.",
        "Delete my account in",
        "Keep my account",
    ],
    "unsubscribe": [
        ">Unsubscribe<",
        "Stop all notification e-mails for",
    ],
    "unsubscribed": [
        ">Unsubscribe<",
        "Done: PeerHub will no longer e-mail you",
        "You still see them in the app.",
        "Change your preferences",
    ],
    "404": [
        "That page is not here",
        "It may have moved",
        ">home page<",
    ],
    "login": [
        "Username or e-mail",
    ],
    "403": [
        "This page is not open to you",
        "You may need to sign in as someone else",
        ">home page<",
    ],
}

# a phrase of each page in each language
PHRASES = {
    "tokens": {
        "es": "Tus tokens",
        "fr": "Vos jetons",
        "pt-br": "Seus tokens",
        "ar": "رموزك",
    },
    "data": {
        "es": "Tus exportaciones",
        "fr": "Vos exports",
        "pt-br": "Suas exportações",
        "ar": "تصديراتك",
    },
    "delete": {
        "es": "Conservar mi cuenta",
        "fr": "Garder mon compte",
        "pt-br": "Manter minha conta",
        "ar": "أبقِ على حسابي",
    },
    "unsubscribe": {
        "es": "Darse de baja",
        "fr": "Se désabonner",
        "pt-br": "Cancelar inscrição",
        "ar": "إلغاء الاشتراك",
    },
    "unsubscribed": {
        "es": "Cambiar tus preferencias",
        "fr": "Modifier vos préférences",
        "pt-br": "Alterar suas preferências",
        "ar": "غيّر تفضيلاتك",
    },
    "404": {
        "es": "Esa página no está aquí",
        "fr": "Cette page n’est pas ici",  # noqa: RUF001
        "pt-br": "Essa página não está aqui",
        "ar": "هذه الصفحة غير موجودة هنا",
    },
    "403": {
        "es": "Esta página no está abierta para ti",
        "fr": "Cette page ne vous est pas accessible",
        "pt-br": "Esta página não está aberta para você",
        "ar": "هذه الصفحة غير متاحة لك",
    },
    "login": {
        "es": "Usuario o correo",
        "fr": "Nom d’utilisateur ou e-mail",  # noqa: RUF001
        "pt-br": "Nome de usuário ou e-mail",
        "ar": "اسم المستخدم أو البريد الإلكتروني",
    },
}

SETTINGS_PAGES = {"tokens", "data", "delete"}


def left_english(html: str, page: str) -> list[str]:
    phrases = PAGE_ENGLISH[page] + (SETTINGS_ENGLISH if page in SETTINGS_PAGES else [])
    return [phrase for phrase in phrases if phrase in main(html)]


def assert_in_language(response, language: str, page: str) -> None:
    html = response.content.decode()
    lang, direction, _, _ = LANGUAGES[language]
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert left_english(html, page) == [], f"English left in the {language} {page} page"
    assert PHRASES[page][language] in main(html)


@pytest.fixture
def member(client):
    clear_caches()
    member = UserFactory(language="", display_name="Ana")
    member.set_password("a long enough password")
    member.save()
    client.force_login(member)
    return member


def tokens_page(client, member, language):
    token_create(user=member, name="backup", scopes=["read"], expires_in_days=30)
    return client.post(
        reverse("access-tokens"),
        {"name": "nightly", "scopes": ["read"], "expires_in": "30", "nonce": secrets.token_hex(8)},
        HTTP_ACCEPT_LANGUAGE=language,
    )


def data_page(client, member, language):
    now = timezone.now()
    common = {"user": member, "size": 2048, "file_name": "x.zip"}
    DataExport.objects.create(
        **common, token="a" * 20, state=DataExport.State.READY, created_at=now,
        finished_at=now, expires_at=now + timedelta(days=7),
    )  # fmt: skip
    DataExport.objects.create(
        **common, token="b" * 20, state=DataExport.State.EXPIRED,
        created_at=now - timedelta(days=30), expires_at=now - timedelta(days=23),
    )  # fmt: skip
    DataExport.objects.create(
        **common, token="c" * 20, state=DataExport.State.FAILED,
        created_at=now - timedelta(days=40),
    )  # fmt: skip
    return client.get(reverse("data-settings"), HTTP_ACCEPT_LANGUAGE=language)


def delete_page(client, member, language):
    return client.get(reverse("account-delete"), HTTP_ACCEPT_LANGUAGE=language)


def unsubscribe_url(member):
    token = notification_services.unsubscribe_token(user=member)
    return reverse("notifications-unsubscribe", kwargs={"token": token})


def unsubscribe_page(client, member, language):
    return client.get(unsubscribe_url(member), HTTP_ACCEPT_LANGUAGE=language)


def unsubscribed_page(client, member, language):
    return client.post(unsubscribe_url(member), HTTP_ACCEPT_LANGUAGE=language)


def not_found_page(client, member, language):
    return client.get("/no-such-page-here/", HTTP_ACCEPT_LANGUAGE=language)


def forbidden_page(client, member, language):
    return client.get(reverse("staff-dashboard"), HTTP_ACCEPT_LANGUAGE=language)


def login_page(client, member, language):
    client.logout()
    return client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE=language)


PAGES = {
    "tokens": (tokens_page, 200),
    "data": (data_page, 200),
    "delete": (delete_page, 200),
    "unsubscribe": (unsubscribe_page, 200),
    "unsubscribed": (unsubscribed_page, 200),
    "404": (not_found_page, 404),
    "403": (forbidden_page, 403),
    "login": (login_page, 200),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_account_pages_are_in_the_readers_language(client, member, page, language):
    render, status = PAGES[page]
    response = render(client, member, language)
    assert response.status_code == status
    assert_in_language(response, language, page)


@pytest.mark.parametrize("page", PAGES)
def test_the_account_pages_in_english_say_what_the_languages_translate(client, member, page):
    render, status = PAGES[page]
    response = render(client, member, "en")
    assert response.status_code == status
    html = response.content.decode()
    phrases = PAGE_ENGLISH[page] + (SETTINGS_ENGLISH if page in SETTINGS_PAGES else [])
    assert [phrase for phrase in phrases if phrase not in main(html)] == []


def test_the_token_form_and_flash_messages_speak_the_readers_language(client, member):
    response = client.post(
        reverse("access-tokens"),
        {"name": "", "scopes": ["read"], "expires_in": "30", "nonce": "n1"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert "Este campo es requerido." in response.content.decode()  # Django's own
    token = token_create(user=member, name="old", scopes=["read"], expires_in_days=7).token
    response = client.post(
        reverse("access-token-revoke", args=[token.pk]), HTTP_ACCEPT_LANGUAGE="fr", follow=True
    )
    assert "Le jeton « old » est révoqué : il ne fonctionne plus." in response.content.decode()
    response = client.post(
        reverse("account-delete"), {"password": "wrong"}, HTTP_ACCEPT_LANGUAGE="pt-br"
    )
    assert "Essa não é a sua senha." in response.content.decode()


# --- E-mails -------------------------------------------------------------------------------------

EMAIL_ENGLISH = [
    "Hello ",
    "All your notifications",
    "Choose how you hear from PeerHub",
    "Stop these e-mails",
    "You get this e-mail at once",
    "Stop all e-mails from PeerHub",
    "Here is what happened on PeerHub",
    "new notifications of the kind",
    "Your daily digest",
    "with one click",
]

EMAIL_PHRASES = {
    # language: (greeting, the digest's subject, the e-mail's direction)
    "es": ("Hola, Ana:", "Tu resumen diario: 2 notificaciones nuevas", "ltr"),
    "ar": ("مرحبًا Ana،", "ملخصك اليومي: إشعاران جديدان", "rtl"),
}


@pytest.fixture
def notified(commit):
    """Two fork notices waiting for a member, the recipient set to a language per test."""
    recipient = UserFactory(display_name="Ana", language="en", email="ana@example.org")
    for n in range(2):
        solution = make_solution(title=f"Fork {n}")
        commit(
            notify, "solution_forked", [recipient], actor=solution.author, target=solution,
            context={"parent": "Sand filter"},
        )  # fmt: skip
    return recipient


def english_in(message) -> list[str]:
    parts = [message.subject, message.body, message.alternatives[0][0]]
    return [phrase for phrase in EMAIL_ENGLISH if any(phrase in part for part in parts)]


@pytest.mark.parametrize("language", EMAIL_PHRASES)
def test_a_notification_email_is_in_the_recipients_language(notified, language):
    notified.language = language
    notified.save(update_fields=["language"])
    items = list(Notification.objects.filter(recipient=notified).order_by("pk"))
    for notifications in ([items[0]], items):  # one at once, and two of a kind together
        message = emails.notification_message(
            notifications=notifications, unsubscribe_url="https://peerhub.test/u/x/"
        )
        assert english_in(message) == []
        greeting, _, direction = EMAIL_PHRASES[language]
        html = message.alternatives[0][0]
        assert greeting in message.body and greeting in html
        assert f'<html lang="{language}" dir="{direction}">' in html
    assert ("2 notificaciones nuevas" if language == "es" else "إشعاران جديدان") in message.body
    assert translation.get_language() == "en"  # the recipient's language did not leak


@pytest.mark.parametrize("language", EMAIL_PHRASES)
def test_a_digest_email_is_in_the_recipients_language(notified, language):
    notified.language = language
    notified.save(update_fields=["language"])
    message = emails.digest_message(
        recipient=notified,
        day=date(2027, 3, 3),
        notifications=list(Notification.objects.filter(recipient=notified)),
        unsubscribe_url="https://peerhub.test/u/x/",
    )
    assert english_in(message) == []
    greeting, subject, _ = EMAIL_PHRASES[language]
    assert greeting in message.body
    assert subject in message.subject
    assert ("marzo" if language == "es" else "مارس") in message.body  # the day, in words


def test_the_emails_in_english_say_what_the_languages_translate(notified):
    items = list(Notification.objects.filter(recipient=notified))
    once = emails.notification_message(notifications=items, unsubscribe_url="https://x/u/")
    digest = emails.digest_message(
        recipient=notified, day=date(2027, 3, 3), notifications=items, unsubscribe_url="https://x/"
    )
    found = set(english_in(once)) | set(english_in(digest))
    assert found == set(EMAIL_ENGLISH)


# --- The API's own errors ------------------------------------------------------------------------


def test_a_page_number_on_a_cursor_list_is_refused_in_french():
    response = APIClient().get("/api/solutions/?page=2", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "cursor_pagination"
    assert error["message"].startswith("Cette liste se pagine avec un curseur : suivez le lien")
    english = APIClient().get("/api/solutions/?page=2", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["error"]["message"].startswith("This list pages with a cursor")


def test_a_bad_or_short_scoped_token_is_refused_in_french():
    client = APIClient()
    response = client.get(
        "/api/solutions/", HTTP_AUTHORIZATION="Token ph_nope", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Jeton non valide."
    issued = token_create(
        user=UserFactory(language=""), name="r", scopes=["read"], expires_in_days=30
    )
    response = client.post(
        "/api/auth/tokens/",
        {"name": "more"},
        format="json",
        HTTP_AUTHORIZATION=f"Token {issued.secret}",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope"
    assert error["message"] == "Ce jeton n’a pas la portée « write »."  # noqa: RUF001


def test_an_unknown_api_path_is_not_found_in_arabic():
    response = APIClient().get("/api/no-such-thing/", HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 404
    assert response.json()["error"] == {"status": 404, "code": "not_found", "message": "غير موجود."}


@pytest.mark.write_limits
def test_a_write_limit_is_explained_in_french(settings):
    settings.PEERHUB_WRITE_LIMITS = {
        name: {**rule, "new": 2} for name, rule in settings.PEERHUB_WRITE_LIMITS.items()
    }
    member = UserFactory()
    for _ in range(2):
        write_spend(member, "comment")
    with translation.override("fr"), pytest.raises(WriteLimited) as refused:
        write_spend(member, "comment")
    assert refused.value.code == "write_limited"
    message = refused.value.message
    assert message.startswith("Vous avez atteint la limite de 2 commentaires par tranche de 10")
    assert "Réessayez dans " in message and "niveau de confiance" in message


def test_a_nul_character_is_refused_in_the_readers_language(client):
    response = client.get("/api/solutions/?q=%00", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "status": 400,
        "code": "nul_character",
        "message": "No se permiten caracteres NUL.",
    }
    page = client.get("/challenges/?q=%00", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert page.status_code == 400
    html = page.content.decode()
    assert '<html lang="pt-br" dir="ltr">' in html
    assert "Caracteres NUL não são permitidos." in html
    assert "Não foi possível entender essa solicitação" in html


def test_the_data_export_email_is_in_the_members_language(mailoutbox):
    from peerhub import exports

    member = UserFactory(display_name="Ana", language="fr", email="ana@example.org")
    now = timezone.now()
    export = DataExport.objects.create(
        user=member, token="d" * 20, state=DataExport.State.READY, created_at=now,
        finished_at=now, expires_at=now + timedelta(days=7), file_name="x.zip", size=10,
    )  # fmt: skip
    assert exports.export_email_send(export_id=export.pk)
    message = mailoutbox[0]
    assert message.subject.endswith("Vos données PeerHub sont prêtes")
    assert message.body.startswith("Bonjour Ana,")
    assert "La copie de vos données PeerHub que vous avez demandée est prête :" in message.body
    html = message.alternatives[0][0]
    assert '<html lang="fr" dir="ltr">' in html and "Télécharger vos données" in html
    assert "Hello" not in message.body and "If you did not ask" not in html
    assert translation.get_language() == "en"


def test_the_archives_readme_is_in_the_members_language():
    import io
    import zipfile

    from peerhub import exports

    member = UserFactory(language="pt-br")
    export = DataExport.objects.create(user=member, token="e" * 20)
    target = io.BytesIO()
    exports._write_archive(target, export=export, parts=[])
    readme = zipfile.ZipFile(target).read("README.txt").decode()
    assert readme.startswith("PeerHub: seus dados")
    assert "files/orders/<id>/<message>/..." in readme  # the paths stay as they are
    assert "This archive holds" not in readme
    assert translation.get_language() == "en"


@pytest.mark.parametrize("status", [400, 413, 500, 503])
def test_the_standalone_error_pages_are_in_the_readers_language(status):
    """Rendered without the request or the database (peerhub.errors.error_page), as a broken
    site answers them: only the active language, which LocaleMiddleware chose."""
    from peerhub import errors

    english = errors.error_page(status, f"{status}.html").content.decode()
    assert '<html lang="en" dir="ltr">' in english and "home page" in english
    with translation.override("ar"):
        html = errors.error_page(status, f"{status}.html").content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "PeerHub home" not in html
    assert "home page" not in html and "Please" not in html and "Something" not in html
    assert "الصفحة الرئيسية" in html
