"""The challenges app's writing and reading of work in every shipped language (issue 22): the
new-challenge, solution and fork forms, a solution's history, a comparison of two revisions, the
lineage page and the search page read in the reader's language, with none of their English left;
and what the rules say when they refuse (a form error, a service's refusal, a refused upload)
reads in the member's language too."""

import pytest
from django.urls import reverse
from django.utils import translation

from challenges import files, services
from peerhub.exceptions import DomainError
from tests.challenges.test_files import CSV, png, upload
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_organiser, make_solution
from tests.helpers import clear_caches
from tests.peerhub.test_chrome_languages import LANGUAGES, assert_page_reads_in, main

pytestmark = pytest.mark.django_db

# English each page says (headings, labels, help texts, buttons), none of which is also the
# word in a shipped language.
PAGE_ENGLISH = {
    "challenge_form": [
        "Frame a challenge",
        "A good challenge says what the problem is",
        "One line that says what the challenge is.",
        "What needs solving?",
        ">Why it matters:",
        ">Success criteria:",
        "Which of the manifesto",
        "Comma-separated.",
        ">Visibility:",
        "Private: organisers and invited members",
        "The language the brief is written in",
        ">Licence:",
        ">Opens at:",
        ">Deadline:",
        "In your time zone",
        "Save as draft",
        ">Cancel<",
    ],
    "solution_form": [
        "Post a solution",
        "Explain your answer so others can understand it",
        "Contributions are shared under",
        ">Title:",
        "Explain your solution.",
        "Detect from the text",
        "browsers and screen readers use it",
        ">Files:",
        "refer to an image in the text",
        ">What changed:",
        "like a commit message",
        ">Publish now:",
        "stays a draft that only you can see",
        "The criteria it will be judged on",
        ">Cancel<",
    ],
    "fork": [
        "Fork and remix",
        "You get your own copy of revision",
        "Building on others earns both of you credit.",
        ">Challenge:",
        "Remix into the same challenge",
        ">Title:",
        ">Fork<",
        ">Cancel<",
    ],
    "history": [
        " revisions<",
        "Every edit is kept.",
        'aria-label="Revisions"',
        ">From<",
        ">Revision<",
        ">Author<",
        ">When<",
        "Compare from revision",
        "Compare to revision",
        "Compare selected revisions",
        "First version",
        ">Flag<",
    ],
    "diff": [
        "Revision 1 → 2",
        "added or changed",
        "removed or changed",
        "Choose revisions",
        ">From<",
        ">to<",
        ">Compare<",
        ">history<",
        ">Revision 1<",
        ">Revision 2<",
        "removed text on the left",
    ],
    "lineage": [
        "The whole lineage",
        "From the original",
        "to every fork and remix",
        "The highlighted box is",
        "The same tree is available as JSON",
        "· lineage<",
        "Lineage tree",
        "Lineage of Barrels: 2 solutions",
        "generation 1",
        ", generation ",
        "List view",
    ],
    "search": [
        ">Words<",
        ">Kind<",
        ">Everything<",
        ">Challenge status<",
        ">Any status<",
        ">Any value<",
        "2 results for ",
        ">Members<",
        ">Search<",
        "by Ana in",
    ],
}

# a phrase of each page in each language
PHRASES = {
    "challenge_form": {
        "es": "Guardar como borrador",
        "fr": "Enregistrer comme brouillon",
        "pt-br": "Salvar como rascunho",
        "ar": "حفظ كمسودة",
    },
    "solution_form": {
        "es": "Los criterios con los que se evaluará",
        "fr": "Les critères sur lesquels elle sera jugée",
        "pt-br": "Os critérios pelos quais será julgada",
        "ar": "المعايير التي سيُحكم عليه وفقها",
    },
    "fork": {
        "es": "Bifurca y remezcla",
        "fr": "Forkez et remixez",
        "pt-br": "Faça fork e remix",
        "ar": "تفرّع وأعِد المزج",
    },
    "history": {
        "es": "Comparar las revisiones seleccionadas",
        "fr": "Comparer les révisions sélectionnées",
        "pt-br": "Comparar as revisões selecionadas",
        "ar": "قارن المراجعات المحدَّدة",
    },
    "diff": {
        "es": "Elegir revisiones",
        "fr": "Choisir les révisions",
        "pt-br": "Escolher revisões",
        "ar": "اختر المراجعات",
    },
    "lineage": {
        "es": "El linaje completo",
        "fr": "Toute la lignée",
        "pt-br": "A linhagem completa",
        "ar": "السلالة كاملة",
    },
    "search": {
        "es": "Estado del reto",
        "fr": "Statut du défi",
        "pt-br": "Status do desafio",
        "ar": "حالة التحدي",
    },
}


@pytest.fixture
def work(client):
    """An organiser's open challenge, a solution by Ana with two revisions and a fork of it by
    Ben, seen by the organiser (who may post, fork and flag)."""
    clear_caches()
    organiser = make_organiser(language="")
    challenge = ChallengeFactory(title="Rain", created_by=organiser, organisers=[organiser])
    solution = make_solution(
        challenge, UserFactory(username="ana", display_name="Ana"), title="Barrels", body="Wood."
    )
    services.solution_revise(
        solution=solution, by=solution.author, title="Barrels", body="Wood.\n\nSteel.", message=""
    )
    solution.refresh_from_db()
    fork = make_fork(solution, UserFactory(username="ben", display_name="Ben"))
    client.force_login(organiser)
    return {
        "challenge_form": reverse("challenges:create"),
        "solution_form": reverse("challenges:solution-create", args=[challenge.slug]),
        "fork": reverse("challenges:solution-fork", args=[solution.pk]),
        "history": reverse("challenges:solution-history", args=[solution.pk]),
        "diff": reverse("challenges:solution-diff", args=[solution.pk]) + "?from=1&to=2",
        "lineage": reverse("challenges:solution-lineage", args=[fork.pk]),
        "search": reverse("challenges:search") + "?q=barrels",
    }


def page(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("name", PAGE_ENGLISH)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pages_of_writing_and_reading_work_are_in_the_readers_language(
    client, work, name, language
):
    html = page(client, work[name], language)
    assert_page_reads_in(
        html, language, english=PAGE_ENGLISH[name], phrase=PHRASES[name][language], page=name
    )
    body = main(html)
    assert "Barrels" in body or name in {"challenge_form", "solution_form"}  # members' words


@pytest.mark.parametrize("name", PAGE_ENGLISH)
def test_in_english_the_pages_say_what_the_languages_translate(client, work, name):
    body = main(page(client, work[name], "en"))
    assert [phrase for phrase in PAGE_ENGLISH[name] if phrase not in body] == []


def test_a_challenge_form_error_reads_in_spanish(client):
    client.force_login(make_organiser(language=""))
    response = client.post(
        reverse("challenges:create"),
        {
            "title": "Lluvia",
            "summary": "Recoger agua.",
            "visibility": "public",
            "licence": "CC BY-SA 4.0",
            "opens_at": "2030-05-02T10:00",
            "closes_at": "2030-05-01T10:00",
        },
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 200
    html = main(response.content.decode())
    assert "La fecha límite debe ser posterior a la fecha de apertura." in html
    assert "The deadline must come after the opening date." not in html


def test_a_refusal_of_the_solutions_service_reads_in_french():
    solution = make_solution(title="Barrels", body="Wood.")
    with translation.override("fr"), pytest.raises(DomainError) as refused:
        services.solution_revise(
            solution=solution, by=solution.author, title="Barrels", body="Wood.", message=""
        )
    assert refused.value.code == "unchanged"  # the stable code stays as it is
    assert refused.value.message == (
        "Rien n\u2019a changé : modifiez d\u2019abord le titre, le texte ou les fichiers."
    )
    with translation.override("fr"), pytest.raises(DomainError) as refused:
        services.upstream_propose(fork=make_fork(solution), by=UserFactory(), message="x")
    assert "l\u2019auteur d\u2019un fork publié" in refused.value.message


def test_an_upload_refusal_reads_in_arabic():
    with translation.override("ar"), pytest.raises(DomainError) as refused:
        files.prepare_upload(upload("notes.txt", b""), per_file=1024)
    assert refused.value.code == "file_empty"
    assert refused.value.message == "الملف «notes.txt» فارغ."
    with translation.override("ar"), pytest.raises(DomainError) as refused:
        files.prepare_upload(upload("photo", b"x"), per_file=1024)
    assert refused.value.code == "file_name_extension"
    assert "لا امتداد للملف «photo»" in refused.value.message


def test_a_refused_upload_on_the_solution_form_reads_in_the_members_language(client, work):
    challenge = ChallengeFactory(title="Snow")
    client.force_login(UserFactory(language=""))
    response = client.post(
        reverse("challenges:solution-create", args=[challenge.slug]),
        {"title": "Sled", "body": "Wood.", "publish": "on", "files": [upload("rain", b"a,b\n")]},
        HTTP_ACCEPT_LANGUAGE="pt-br",
    )
    assert response.status_code == 200
    html = main(response.content.decode())
    assert "“rain” não tem extensão: dê a ele um nome que diga o que é" in html


ARCHIVE_ENGLISH = [
    "Download revision 1 as a zip",
    "Its files are large",
    "Keep this page open",
    "Waiting to start",
    "Reload this page",
    "to see whether it is ready",
]

ARCHIVE_PHRASE = {
    "es": "Esperando para empezar",
    "fr": "En attente de démarrage",
    "pt-br": "Aguardando o início",
    "ar": "بانتظار البدء",
}


@pytest.fixture
def archive_page(client, settings):
    """A large revision's zip page, its build queued (anything over 100 bytes is large here)."""
    settings.PEERHUB_FILES = {**settings.PEERHUB_FILES, "zip_task_bytes": 100}
    solution = services.solution_create(
        challenge=ChallengeFactory(title="Rain"),
        author=UserFactory(),
        title="Gauge",
        body="A gauge.",
        uploads=[upload("gauge.png", png(size=(64, 64))), upload("rain.csv", CSV)],
    )
    client.force_login(UserFactory(language=""))
    return reverse("challenges:revision-archive-page", args=[solution.pk, 1])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_revisions_zip_page_is_in_the_readers_language(client, archive_page, language):
    body = main(page(client, archive_page, language))
    assert [phrase for phrase in ARCHIVE_ENGLISH if phrase in body] == []
    assert ARCHIVE_PHRASE[language] in body and "Gauge" in body


def test_a_revisions_zip_page_in_english(client, archive_page):
    body = main(page(client, archive_page, "en"))
    assert [phrase for phrase in ARCHIVE_ENGLISH if phrase not in body] == []


def test_the_edit_form_of_a_solution_with_files_reads_in_spanish(client):
    solution = services.solution_create(
        challenge=ChallengeFactory(title="Rain"),
        author=UserFactory(language=""),
        title="Gauge",
        body="A gauge.",
        uploads=[upload("rain.csv", b"a,b\n1,2\n")],
    )
    client.force_login(solution.author)
    url = reverse("challenges:solution-edit", args=[solution.pk])
    english = ["Saving creates revision 2", "Remove files:", "Save revision", "Edit “Gauge”"]
    body = main(page(client, url, "en"))
    assert [phrase for phrase in english if phrase not in body] == []
    body = main(page(client, url, "es"))
    assert [phrase for phrase in english if phrase in body] == []
    assert "Al guardar se crea la revisión 2" in body and "Quitar archivos" in body
