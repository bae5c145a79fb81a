"""The Markdown editor's server side: the preview (the page's htmx POST and its API twin) renders
through the site's one renderer and sanitiser, for signed-in members only, limited in size and
rate; every Markdown field of the forms is the editor."""

import pytest
from django.test import Client
from django.urls import reverse

from challenges.forms import ChallengeForm, CommentForm, ProposalForm, SolutionForm, UpstreamForm
from marketplace.forms import DeliverForm, DisputeForm, MessageForm, OfferForm, OrderPlaceForm
from peerhub.forms import ProfileForm
from peerhub.markdown import render_markdown
from peerhub.widgets import MarkdownEditor
from tests.factories import UserFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

HOSTILE = "**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"


def preview(client, text, **headers):
    return client.post(reverse("markdown-preview"), {"text": text}, **headers)


def test_the_preview_renders_like_the_stored_text_and_strips_script(member_client):
    response = preview(member_client, HOSTILE, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>bold</strong>" in html
    # Written out as text, never as markup: no element, no link to a script, no handler.
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html
    assert str(render_markdown(HOSTILE)) in html


def test_the_preview_links_mentions_of_members(member_client):
    li = UserFactory(username="li")
    html = preview(member_client, "Thanks @li and @ghost").content.decode()
    assert f'<a href="{li.get_absolute_url()}" class="mention"' in html
    assert "@ghost" in html and html.count('class="mention"') == 1


def test_an_empty_preview_says_so(member_client):
    assert "Nothing to preview." in preview(member_client, "   ").content.decode()


def test_the_preview_is_for_signed_in_members(client):
    response = preview(client, "hi")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_preview_is_csrf_protected(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert preview(client, "hi").status_code == 403


def test_the_preview_only_answers_posts(member_client):
    assert member_client.get(reverse("markdown-preview")).status_code == 405


def test_a_preview_too_long_is_refused(member_client, settings):
    from peerhub import limits

    text = "a" * (limits.MARKDOWN_PREVIEW + 1)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * limits.MARKDOWN_PREVIEW
    assert preview(member_client, text).status_code == 413
    htmx = preview(member_client, text, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and "Preview at most" in htmx.content.decode()


@pytest.mark.write_limits
def test_previews_are_rate_limited_like_writes(member_client, settings):
    settings.PEERHUB_WRITE_LIMITS = {
        **settings.PEERHUB_WRITE_LIMITS,
        "preview": {"window": 600, "new": 2, "established": 2, "label": "previews"},
    }
    assert [preview(member_client, "hi").status_code for _ in range(3)] == [200, 200, 429]


# --- The API twin ------------------------------------------------------------------------------


def test_api_preview_answers_the_html(member_api_client):
    response = member_api_client.post(
        reverse("api-markdown-preview"), {"text": HOSTILE}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"html": str(render_markdown(HOSTILE))}
    assert "<script" not in response.json()["html"]


def test_api_preview_needs_a_signed_in_member(api_client):
    response = api_client.post(reverse("api-markdown-preview"), {"text": "hi"}, format="json")
    assert response.status_code == 401


def test_api_preview_refuses_bad_input_with_the_error_shape(member_api_client):
    url = reverse("api-markdown-preview")
    assert_error(member_api_client.post(url, {}, format="json"), 400)
    assert_error(member_api_client.post(url, {"text": ["a"]}, format="json"), 400)


def test_api_preview_refuses_a_text_too_long(member_api_client, settings):
    from peerhub import limits

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * limits.MARKDOWN_PREVIEW
    text = "a" * (limits.MARKDOWN_PREVIEW + 1)
    response = member_api_client.post(
        reverse("api-markdown-preview"), {"text": text}, format="json"
    )
    assert_error(response, 413, "too_large")


def test_api_preview_is_in_the_schema(api_client):
    schema = api_client.get(reverse("api-schema"), {"format": "json"}).json()
    assert "post" in schema["paths"]["/api/markdown/preview/"]


# --- The editor everywhere Markdown is written ---------------------------------------------------


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        (ChallengeForm, ["problem", "context"]),
        (ProposalForm, ["problem", "context"]),
        (SolutionForm, ["body"]),
        (UpstreamForm, ["message"]),
        (CommentForm, ["body"]),
        (OrderPlaceForm, ["brief"]),
        (MessageForm, ["body"]),
        (DeliverForm, ["message"]),
        (DisputeForm, ["reason"]),
        (ProfileForm, ["bio"]),
    ],
)
def test_markdown_fields_use_the_editor(form, fields):
    for name in fields:
        assert isinstance(form.base_fields[name].widget, MarkdownEditor), (form, name)


def test_the_offer_form_uses_the_editor(user):
    assert isinstance(OfferForm(seller=user).fields["description"].widget, MarkdownEditor)


def test_the_editor_is_a_plain_textarea_first():
    html = MarkdownEditor(attrs={"id": "id_body", "rows": 3}).render("body", "Hello <b>")
    assert '<textarea name="body"' in html and "Hello &lt;b&gt;</textarea>" in html
    # The tabs and toolbar wait for the script; without it only the textarea shows.
    assert '<div class="md-bar" hidden>' in html
    assert 'data-preview-url="/markdown/preview/"' in html
    assert "data-mentions-url" not in html
    for name in ("Bold (Ctrl+B)", "Italic (Ctrl+I)", "Link (Ctrl+K)", "Bulleted list", "Code"):
        assert f'aria-label="{name}"' in html
    for name in ("Quote", "Heading", "Table"):
        assert f'aria-label="{name}"' in html


def test_comment_forms_suggest_members_who_may_see_the_challenge(client, user):
    from tests.factories import ChallengeFactory

    challenge = ChallengeFactory()
    client.force_login(user)
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert f'data-mentions-url="/api/mentions/?challenge={challenge.slug}"' in html
    assert 'id="comment-body"' in html
