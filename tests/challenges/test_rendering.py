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
