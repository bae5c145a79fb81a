"""A signed-in page costs a bounded number of queries more than the same page signed out: the
member comes in one query with their verified address, trust level, Premium and permission
answers (peerhub.auth_backends), and the session is one more (none with Redis sessions)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory

# Session and user; the page's own member-only parts (the notification bell, "My orders") are
# the rest.
SIGNED_IN_EXTRA = 4

PAGES = ["home", "challenges:list", "marketplace:offer-list"]


def _queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_signed_in_page_costs_at_most_a_few_queries_more(client, name, capsys):
    url = reverse(name)
    client.get(url)  # warm per-process caches (site figures, manifesto)
    signed_out = _queries(client, url)
    client.force_login(UserFactory())
    client.get(url)
    signed_in = _queries(client, url)
    with capsys.disabled():
        print(name, len(signed_out), len(signed_in))
        for q in signed_in:
            print("   ", q[:160])
