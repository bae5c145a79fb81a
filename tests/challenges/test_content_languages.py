"""Solutions, revisions and comments know their language (issue 22): guessed from the text by
default (langdetect with the shipped languages only), set by the author in the form and the API,
and written on the page as a `lang` attribute."""

import pytest
from django.urls import reverse
from django.utils import translation

from challenges import services
from challenges.models import Comment, Revision, Solution
from peerhub import languages
from peerhub.exceptions import DomainError
from tests.factories import ChallengeFactory, UserFactory, make_solution

pytestmark = pytest.mark.django_db

TEXTS = {
    "en": "A cheap water filter built from sand, gravel and charcoal for the whole village.",
    "es": "Un filtro de agua barato hecho con arena, grava y carbón para todo el pueblo.",
    "fr": "Un filtre à eau bon marché fait de sable, de gravier et de charbon pour le village.",
    "pt-br": "Um filtro de água barato feito de areia, cascalho e carvão para toda a aldeia.",
    "ar": "مرشح مياه رخيص مصنوع من الرمل والحصى والفحم لكل سكان القرية.",
}


@pytest.mark.parametrize("language", list(TEXTS))
def test_each_shipped_language_is_recognised(language):
    assert languages.detect(TEXTS[language]) == language


def test_a_text_too_short_to_tell_gets_the_writers_language():
    assert languages.detect("OK!", fallback="fr") == "fr"
    with translation.override("es"):
        assert languages.detect("Sí") == "es"


def test_code_and_link_targets_do_not_count():
    text = "Un filtro de agua barato.\n\n```\nthe quick brown fox jumps over the lazy dog\n```"
    assert languages.detect(text + " [enlace](https://example.org/the/english/path)") == "es"


def test_a_solution_takes_the_language_of_its_text_or_the_authors_choice():
    spanish = make_solution(title="Filtro", body=TEXTS["es"])
    assert spanish.language == "es" and spanish.current_revision.language == "es"
    chosen = services.solution_create(
        challenge=ChallengeFactory(),
        author=UserFactory(),
        title="Filter",
        body=TEXTS["en"],
        language="pt-br",
    )
    assert chosen.language == "pt-br"


def test_an_unknown_language_is_refused():
    with pytest.raises(DomainError) as refused:
        services.solution_create(
            challenge=ChallengeFactory(), author=UserFactory(), title="T", body="B", language="de"
        )
    assert refused.value.code == "unknown_language"
    assert not Solution.objects.exists()


def test_a_revision_keeps_the_language_unless_the_author_changes_it():
    solution = make_solution(title="Filtro", body=TEXTS["es"])
    services.solution_revise(
        solution=solution, by=solution.author, title="Filtro", body=TEXTS["es"] + " OK."
    )
    solution.refresh_from_db()
    assert solution.language == "es"
    # Only the language changes: that is a new revision too.
    services.solution_revise(
        solution=solution,
        by=solution.author,
        title="Filtro",
        body=TEXTS["es"] + " OK.",
        language="pt-br",
    )
    solution.refresh_from_db()
    assert solution.language == "pt-br" and solution.revision_count == 3
    assert list(Revision.objects.filter(solution=solution).values_list("language", flat=True)) == [
        "es",
        "es",
        "pt-br",
    ]


def test_a_fork_keeps_its_sources_language():
    source = make_solution(body=TEXTS["fr"])
    fork = services.solution_fork(source=source, by=UserFactory())
    assert fork.language == "fr"


def test_a_comment_takes_its_texts_language_and_an_edit_keeps_it_unless_told():
    challenge = ChallengeFactory()
    author = UserFactory()
    comment = services.comment_create(author=author, target=challenge, body=TEXTS["ar"])
    assert comment.language == "ar"
    services.comment_edit(comment=comment, by=author, body="شكرا")
    assert Comment.objects.get(pk=comment.pk).language == "ar"
    services.comment_edit(comment=comment, by=author, body="Merci", language="fr")
    assert Comment.objects.get(pk=comment.pk).language == "fr"


def test_the_page_marks_the_language_of_the_solution_and_its_comments(client):
    solution = make_solution(body=TEXTS["es"])
    services.comment_create(author=UserFactory(), target=solution, body=TEXTS["fr"])
    page = client.get(solution.get_absolute_url()).content.decode()
    assert '<div class="solution-text" lang="es" dir="auto">' in page
    assert '<div class="comment-body prose" lang="fr" dir="auto">' in page


def test_the_author_chooses_the_language_in_the_solution_form(client):
    solution = make_solution(body=TEXTS["es"])
    client.force_login(solution.author)
    url = reverse("challenges:solution-edit", args=[solution.pk])
    form = client.get(url).content.decode()
    assert '<option value="es" selected>' in form
    response = client.post(
        url, {"title": solution.title, "body": TEXTS["es"], "language": "fr", "message": ""}
    )
    assert response.status_code == 302
    assert Solution.objects.get(pk=solution.pk).language == "fr"


def test_a_new_solution_left_to_detect_gets_its_texts_language(client):
    challenge = ChallengeFactory()
    author = UserFactory()
    client.force_login(author)
    url = reverse("challenges:solution-create", args=[challenge.slug])
    response = client.post(
        url, {"title": "Filtro", "body": TEXTS["pt-br"], "language": "", "publish": "on"}
    )
    assert response.status_code == 302
    assert Solution.objects.get(author=author).language == "pt-br"


def test_the_author_changes_a_comments_language_in_the_edit_form(client):
    author = UserFactory()
    comment = services.comment_create(author=author, target=ChallengeFactory(), body=TEXTS["en"])
    client.force_login(author)
    url = reverse("challenges:comment-edit", args=[comment.pk])
    assert 'name="language"' in client.get(url).content.decode()
    assert client.post(url, {"body": TEXTS["en"], "language": "es"}).status_code == 302
    assert Comment.objects.get(pk=comment.pk).language == "es"


def test_the_api_reads_and_writes_content_languages(api_client):
    challenge = ChallengeFactory()
    author = UserFactory()
    api_client.force_authenticate(author)
    created = api_client.post(
        reverse("api-solution-list"),
        {"challenge": challenge.slug, "title": "Filtro", "body": TEXTS["es"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["language"] == "es"
    url = reverse("api-solution-detail", args=[created.json()["id"]])
    revised = api_client.patch(url, {"language": "pt-br"}, format="json")
    assert revised.status_code == 200 and revised.json()["language"] == "pt-br"
    revisions = api_client.get(url + "revisions/").json()["results"]
    assert [r["language"] for r in revisions] == ["pt-br", "es"]
    bad = api_client.patch(url, {"language": "xx"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"

    comment = api_client.post(
        reverse("api-comment-list"),
        {"challenge": challenge.slug, "body": TEXTS["fr"]},
        format="json",
    ).json()
    assert comment["language"] == "fr"
    comment_url = reverse("api-comment-detail", args=[comment["id"]])
    changed = api_client.patch(comment_url, {"language": "en"}, format="json")
    assert changed.status_code == 200 and changed.json()["language"] == "en"
    assert changed.json()["body"] == TEXTS["fr"]


def test_other_members_cannot_change_a_comments_language(api_client):
    comment = services.comment_create(
        author=UserFactory(), target=ChallengeFactory(), body=TEXTS["en"]
    )
    api_client.force_authenticate(UserFactory())
    response = api_client.patch(
        reverse("api-comment-detail", args=[comment.pk]), {"language": "es"}, format="json"
    )
    assert response.status_code == 403
    assert Comment.objects.get(pk=comment.pk).language == "en"
