"""Rendering stored Markdown again (challenges.rendering): revisions come out as they were
written (mentions and their own files), in a number of queries that does not grow with them."""

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from challenges import services
from challenges.models import Revision
from challenges.rendering import rerender_markdown
from tests.challenges.test_files import CSV, png, upload
from tests.factories import ChallengeFactory, UserFactory, make_organiser

pytestmark = pytest.mark.django_db


@pytest.fixture
def challenge():
    return ChallengeFactory(created_by=make_organiser())


def post(challenge, n: int):
    named = UserFactory(username=f"rain_named_{n}")
    return services.solution_create(
        challenge=challenge,
        author=UserFactory(),
        title=f"Gauge {n}",
        body=f"Thanks @{named.username} and @nobody_{n}. ![g](files/g.png) [data](files/r.csv)",
        uploads=[upload("g.png", png()), upload("r.csv", CSV)],
    )


def stale_all() -> dict[int, str]:
    written = dict(Revision.objects.values_list("pk", "body_html"))
    models.QuerySet(Revision).update(body_html="")
    return written


def test_revisions_render_again_as_they_were_written(challenge):
    for n in range(3):
        post(challenge, n)
    written = stale_all()
    assert rerender_markdown(Revision) == 3
    again = dict(Revision.objects.values_list("pk", "body_html"))
    assert again == written
    assert all('href="/u/rain_named_' in html and "<img" in html for html in again.values())


def test_rendering_revisions_again_reads_a_fixed_number_of_queries(challenge):
    def queries_for(numbers: range) -> int:
        for n in numbers:
            post(challenge, n)
        stale_all()
        with CaptureQueriesContext(connection) as captured:
            rerender_markdown(Revision)
        return len(captured.captured_queries)

    few = queries_for(range(2))
    many = queries_for(range(2, 8))  # four times the revisions
    assert many == few


def test_the_command_renders_every_kept_text_of_every_app(challenge):
    """`rerender_markdown --missing` fills the HTML of every text an app keeps rendered: the
    apps name theirs with the `rendered_markdown` hook, so none is forgotten."""
    import io

    from django.core.management import call_command

    from peerhub.hooks import collect
    from tests.marketplace.factories import OfferFactory

    post(challenge, 1)
    offer = OfferFactory(description="Hand-built **gauges**")
    kept = collect("rendered_markdown")
    assert {(m._meta.label, s) for m, s, _ in kept} >= {
        ("challenges.Comment", "body"),
        ("challenges.Revision", "body"),
        ("challenges.SelectionEntry", "winner_reason"),
        ("marketplace.Offer", "description"),
        ("marketplace.OrderMessage", "body"),
        ("reputation.Review", "comment"),
    }
    for model, source, _ in kept:  # every one names a real pair of fields
        assert {source, f"{source}_html"} <= {f.name for f in model._meta.fields}
    models.QuerySet(type(offer)).update(description_html="")
    written = stale_all()
    out = io.StringIO()
    call_command("rerender_markdown", "--missing", stdout=out)
    offer.refresh_from_db()
    assert offer.description_html.strip() == "<p>Hand-built <strong>gauges</strong></p>"
    assert dict(Revision.objects.values_list("pk", "body_html")) == written
    assert "offers (description): 1 rendered" in out.getvalue()
