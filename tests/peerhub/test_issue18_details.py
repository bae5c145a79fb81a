"""The smaller things of issue 18: unverified accounts are not public members, reputation is
shown in whole numbers (the ledger keeps its precision), durations in one unit, and the public
rules page ends with no command."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from peerhub import figures
from peerhub.presenters import reputation_int, reputation_signed, reputation_whole
from reputation.models import ReputationScore
from tests.factories import UserFactory
from tests.helpers import clear_caches

# --- Unverified accounts --------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unverified_account_has_no_public_profile(client, unverified_user):
    url = reverse("profile", args=[unverified_user.username])
    assert client.get(url).status_code == 404
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.get(f"/api/users/{unverified_user.username}/").status_code == 404


@pytest.mark.django_db
def test_an_unverified_member_sees_their_own_profile_and_staff_see_it(client, unverified_user):
    url = reverse("profile", args=[unverified_user.username])
    client.force_login(unverified_user)
    assert client.get(url).status_code == 200
    client.force_login(UserFactory(is_staff=True, mfa=False))
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_a_verified_members_profile_is_public(client, user):
    assert client.get(reverse("profile", args=[user.username])).status_code == 200


@pytest.mark.django_db
def test_unverified_accounts_are_not_counted_or_listed_as_members(client, commit):
    clear_caches()
    UserFactory()
    pending = UserFactory(verified=False)
    assert dict(figures.site_figures(version=None))["members"] == 1
    listed = {u["username"] for u in client.get("/api/users/").json()["results"]}
    assert pending.username not in listed

    def verify():
        pending.emailaddress_set.update(verified=True)
        address = pending.emailaddress_set.get()
        address.save()  # as allauth does on confirmation

    commit(verify)
    assert dict(figures.site_figures(version=None))["members"] == 2


# --- Reputation in whole numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown", "signed"),
    [
        (Decimal("385.86"), "386", "+386"),
        (Decimal("29"), "29", "+29"),
        (Decimal("0.5"), "1", "+1"),
        (Decimal("-2.5"), "-3", "-3"),
        (Decimal("0.40"), "0", "+<1"),
        (Decimal("-0.2"), "0", "-<1"),
        (Decimal("0"), "0", "0"),
        (Decimal("12480.2"), "12,480", "+12,480"),
    ],
)
def test_reputation_is_shown_as_a_whole_number(value, shown, signed):
    assert reputation_whole(value) == shown
    assert reputation_signed(value) == signed


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_a_shown_reputation_is_within_half_a_point_of_the_ledger(value):
    assert abs(Decimal(reputation_int(value)) - value) <= Decimal("0.5")


def test_the_template_filter_uses_the_presenter():
    html = Template("{% load peerhub %}{{ a|whole }} {{ b|whole:'signed' }}").render(
        Context({"a": Decimal("385.86"), "b": Decimal("0.3")})
    )
    assert html == "386 +&lt;1"


@pytest.mark.django_db
def test_the_profile_shows_whole_reputation_and_the_api_both(client, api_client, user):
    ReputationScore.objects.update_or_create(user=user, defaults={"total": Decimal("385.86")})
    html = client.get(reverse("profile", args=[user.username])).content.decode()
    assert "<strong>386</strong>" in html and "385.86" not in html
    data = api_client.get(f"/api/users/{user.username}/reputation/").json()
    assert data["summary"]["total_points"] == 386
    assert Decimal(data["summary"]["total"]) == Decimal("385.86")  # the ledger's precision, kept


# --- Durations in one unit -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=58, hours=2), "1\xa0month from now"),
        (timedelta(days=-58, hours=-2), "1\xa0month ago"),
        (timedelta(days=3, hours=5), "3\xa0days from now"),
        (timedelta(days=400), "1\xa0year from now"),
    ],
)
def test_durations_are_said_in_their_largest_unit(delta, expected):
    html = Template("{% load peerhub %}{{ when|relative }}").render(
        Context({"when": timezone.now() + delta})
    )
    assert html == expected
    assert "," not in html


def test_durations_under_a_day_read_as_before():
    html = Template("{% load peerhub %}{{ when|relative }}").render(
        Context({"when": timezone.now() - timedelta(hours=3, minutes=5)})
    )
    assert html == "3\xa0hours ago"


# --- The public rules page -------------------------------------------------------------------


@pytest.mark.django_db
def test_how_reputation_works_gives_no_command_to_visitors(client):
    html = client.get(reverse("reputation:how-it-works")).content.decode()
    assert "manage.py" not in html
