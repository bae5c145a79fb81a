"""The members' and community pages in every shipped language (issue 22): a member's profile
with their work, editing one's profile, the notifications page and its preferences, muted and
blocked members, the manifesto and its signing card, the code of conduct and the staff dashboard
read in the reader's language, with none of their English left; and the words the code makes
(flash messages, form and domain errors, the social API's errors) follow the language too."""

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from challenges import services as challenge_services
from peerhub import limits, mentions, relations
from peerhub.exceptions import DomainError
from tests.factories import (
    ManifestoSignatureFactory,
    ManifestoVersionFactory,
    UserFactory,
    ValueFactory,
    make_solution,
)
from tests.helpers import clear_caches
from tests.peerhub.test_chrome_languages import LANGUAGES, main

pytestmark = pytest.mark.django_db

# English each page says (none of it is also the word in a shipped language), and a phrase of
# the page in each language.
PAGES = {
    "profile": (
        [
            "member since",
            'aria-label="Skills"',
            ">Flag<",
            ">About<",
            "No bio yet.",
            "Signed the current manifesto",
            "Version 1, signed",
            "Mute or block",
            ">Mute<",
            ">Block<",
            "Block Kofi Mensah?",
        ],
        {"es": "miembro desde", "fr": "membre depuis", "pt-br": "membro desde", "ar": "عضو منذ"},
    ),
    "own_profile": (
        ["Edit profile", "Tell others what you care about", "add a bio", "Has not signed"],
        {
            "es": "Editar perfil",
            "fr": "Modifier le profil",
            "pt-br": "Editar perfil",
            "ar": "تعديل الملف الشخصي",
        },
    ),
    "profile_edit": (
        [
            "Edit your profile",
            "account e-mail and password live under",
            "your data",
            "Display name",
            "How your name appears",
            "A few lines about you",
            "Comma-separated",
            "Save profile",
            ">Cancel<",
        ],
        {
            "es": "Guardar perfil",
            "fr": "Enregistrer le profil",
            "pt-br": "Salvar perfil",
            "ar": "حفظ الملف الشخصي",
        },
    ),
    "notifications": (
        [
            ">Preferences<",
            "Show unread only",
            "Mark all read",
            "Latest: ",
            "Show all 3",
            ">Mark read<",
            ">Today<",
        ],
        {
            "es": "Marcar todas como leídas",
            "fr": "Tout marquer comme lu",
            "pt-br": "Marcar todas como lidas",
            "ar": "تعليم الكل كمقروء",
        },
    ),
    "preferences": (
        [
            "How you hear from PeerHub",
            "For each kind of event",
            "In the app only",
            "Not at all",
            "by e-mail at once",
            "Save preferences",
        ],
        {
            "es": "Guardar preferencias",
            "fr": "Enregistrer les préférences",
            "pt-br": "Salvar preferências",
            "ar": "حفظ التفضيلات",
        },
    ),
    "relations": (
        [
            "Muted and blocked members",
            "Muting a member stops",
            ">Muted<",
            ">Blocked<",
            "since ",
            ">Unmute<",
            ">Unblock<",
            'aria-label="Unmute',
        ],
        {
            "es": "Miembros silenciados y bloqueados",
            "fr": "Membres masqués et bloqués",
            "pt-br": "Membros silenciados e bloqueados",
            "ar": "الأعضاء المكتومون والمحظورون",
        },
    ),
    "conduct": (
        [
            "Code of conduct",
            "works only if people can build",
            "What we expect",
            "Credit generously",
            "Critique the work, not the person",
            "Vote honestly",
            "Keep commitments in the marketplace",
            "What is not acceptable",
            "Harassment",
            "What happens when it is broken",
            "Write to the staff at",
        ],
        {
            "es": "Critica el trabajo, no a la persona",
            "fr": "Critiquez le travail, pas la personne",
            "pt-br": "Critique o trabalho, não a pessoa",
            "ar": "انتقد العمل لا الشخص",
        },
    ),
    "staff": (
        [
            "What needs a person",
            "Every queue with its count",
            "Marketplace money",
            "Trust review",
            "Django admin",
        ],
        {
            "es": "Lo que necesita a una persona",
            "fr": "Ce qui attend une intervention humaine",
            "pt-br": "O que precisa de uma pessoa",
            "ar": "ما يحتاج إلى تدخّل بشري",
        },
    ),
    "manifesto": (
        [
            "The PeerHub manifesto",
            "Our values",
            "Signing the manifesto",
            "members have signed version",
            "Sign the manifesto",
            "Your name will be listed",
            "Signatories of version",
        ],
        {
            "es": "Firmantes de la versión 1",
            "fr": "Signataires de la version 1",
            "pt-br": "Signatários da versão 1",
            "ar": "الموقّعون على الإصدار 1",
        },
    ),
    "manifesto_visitor": (
        ["Members sign the manifesto", "Join to sign", "Already a member?", ">Log in<"],
        {
            "es": "Únete para firmar",
            "fr": "Inscrivez-vous pour signer",
            "pt-br": "Cadastre-se para assinar",
            "ar": "انضم لتوقّع",
        },
    ),
}


@pytest.fixture
def ana(db):
    clear_caches()
    return UserFactory(username="ana", display_name="Ana Lima", language="", bio="")


@pytest.fixture
def manifesto(db):
    version = ManifestoVersionFactory(number=1)
    ValueFactory(name="Openness")
    for _ in range(2):
        ManifestoSignatureFactory(version=version)
    return version


def page_url(client, page: str, ana, manifesto, commit, staff_user) -> str:
    """Sign the right person in and set the page up; answer its URL."""
    if page == "profile":
        worker = UserFactory(
            username="kofi", display_name="Kofi Mensah", skills="soldering", language="", bio=""
        )
        ManifestoSignatureFactory(version=manifesto, user=worker)
        make_solution(author=worker, title="Sand filter")
        client.force_login(ana)
        return reverse("profile", args=[worker.username])
    if page == "own_profile":
        client.force_login(ana)
        return reverse("profile", args=[ana.username])
    if page == "notifications":
        solution = make_solution(author=ana, title="Sand filter")
        for i in range(3):
            commit(
                challenge_services.comment_create,
                author=UserFactory(display_name=f"Commenter {i}"),
                target=solution,
                body="Nice",
            )
        client.force_login(ana)
        return reverse("notifications")
    if page == "relations":
        relations.mute(member=ana, other=UserFactory(display_name="Quiet one"))
        relations.block(member=ana, other=UserFactory(display_name="Blocked one"))
        client.force_login(ana)
        return reverse("member-relations")
    if page == "staff":
        client.force_login(staff_user)
        return reverse("staff-dashboard")
    if page != "manifesto_visitor" and page != "conduct":
        client.force_login(ana)
    return reverse(
        {
            "profile_edit": "profile-edit",
            "preferences": "notification-preferences",
            "conduct": "code-of-conduct",
            "manifesto": "manifesto",
            "manifesto_visitor": "manifesto",
        }[page]
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_the_page_is_in_the_readers_language(
    client, ana, manifesto, commit, staff_user, page, language
):
    url = page_url(client, page, ana, manifesto, commit, staff_user)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    html = main(response.content.decode())
    english, phrase = PAGES[page]
    assert [words for words in english if words in html] == [], f"English left in {page}"
    assert phrase[language] in html


@pytest.mark.parametrize("page", PAGES)
def test_the_page_in_english_says_what_the_languages_translate(
    client, ana, manifesto, commit, staff_user, page
):
    url = page_url(client, page, ana, manifesto, commit, staff_user)
    html = main(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert [words for words in PAGES[page][0] if words not in html] == []


def test_a_profile_keeps_the_members_own_words(client, ana, manifesto, commit, staff_user):
    url = page_url(client, "profile", ana, manifesto, commit, staff_user)
    html = main(client.get(url, HTTP_ACCEPT_LANGUAGE="ar").content.decode())
    assert "Kofi Mensah" in html and "soldering" in html


# --- Words the code makes ----------------------------------------------------------------------


def test_a_form_error_and_the_flash_messages_are_in_spanish(client, ana):
    client.force_login(ana)
    url = reverse("notification-preferences")
    html = client.post(url, {"solution_comment": "loudly"}, HTTP_ACCEPT_LANGUAGE="es")
    assert "Escoja una opción válida" in html.content.decode()  # Django's own, in Spanish
    assert "(importante)" in html.content.decode()
    other = UserFactory(display_name="Ben Okafor")
    response = client.post(
        reverse("member-mute", args=[other.username]),
        {"next": reverse("member-relations")},
        HTTP_ACCEPT_LANGUAGE="es",
        follow=True,
    )
    html = response.content.decode()
    assert "Has silenciado a Ben Okafor" in html
    assert "Dejar de silenciar" in html


def test_the_block_confirmation_page_is_in_portuguese(client, ana):
    client.force_login(ana)
    other = UserFactory(display_name="Ben Okafor")
    response = client.post(
        reverse("member-block", args=[other.username]), HTTP_ACCEPT_LANGUAGE="pt-br"
    )
    html = response.content.decode()
    assert "Bloquear Ben Okafor?" in html
    assert "Você pode desbloquear quando quiser." in html


def test_domain_errors_are_worded_in_the_active_language(ana):
    with translation.override("es"), pytest.raises(DomainError) as error:
        relations.mute(member=ana, other=ana)
    assert error.value.message == "No puedes silenciarte ni bloquearte a ti mismo."
    assert error.value.code == "self_relation"  # the stable code stays
    text = "x" * (limits.MARKDOWN_PREVIEW + 1)
    with translation.override("fr"), pytest.raises(DomainError) as error:
        mentions.markdown_preview(user=ana, text=text)
    assert error.value.message.startswith("L\u2019aperçu est limité à ")


def test_the_social_apis_errors_are_in_french(ana):
    api = APIClient()
    api.force_authenticate(ana)
    response = api.patch(
        reverse("api-notification-preferences"),
        {"no_such_kind": "off"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["no_such_kind"] == ["Type de notification inconnu."]
    response = api.post(
        reverse("api-follow-list"),
        {"target_type": "member", "target_id": ana.pk},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "status": 400,
        "code": "self_follow",
        "message": "Vous ne pouvez pas vous suivre vous-même.",
    }
