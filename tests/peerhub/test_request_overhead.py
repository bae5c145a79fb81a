"""The signed-in member costs a bounded number of queries: they come in one query with their
verified address, trust-level inputs, Premium and permission flags (peerhub.auth_backends),
and the answers stay exactly those of the lazy selectors."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from marketplace import permissions as market_permissions
from marketplace import services as market_services
from peerhub.auth_backends import (
    AuthenticationBackend,
    ModelBackend,
    load_statement,
    request_user_annotations,
    request_user_load,
)
from peerhub.models import User
from peerhub.selectors import user_is_verified
from reputation import rules
from reputation.models import ReputationScore
from reputation.selectors import trust_level_of
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db

# What a signed-in page may cost more than the same page signed out: the session and the
# member (one query each), and one for a page's own member-only part. The home page is not
# here: a member gets another page than a visitor (peerhub.home), bounded by
# tests/peerhub/test_member_home.py and tests/test_query_budgets.py.
SIGNED_IN_EXTRA = 3

PAGES = ["challenges:list", "marketplace:offer-list", "manifesto"]

PERMS = [
    *rules.privileges(),
    "challenges.create_private_challenge",
    "challenges.export_challenge",
    "challenges.more_open_challenges",
    "challenges.change_challenge",
    "marketplace.view_order",
]


def _premium(user: User) -> User:
    payment = market_services.subscription_start(user=user, interval="monthly")
    market_services.sandbox_answer(payment=payment, by=user, outcome="succeed")
    return user


def _pinned(user: User, level: int) -> User:
    ReputationScore.objects.update_or_create(user=user, defaults={"pinned_level": level})
    return user


def _members() -> dict[str, User]:
    staff_group = Group.objects.create(name="moderators")
    staff_group.permissions.add(Permission.objects.get(codename="change_challenge"))
    grouped = UserFactory(is_staff=True, mfa=False)
    grouped.groups.add(staff_group)
    scored = UserFactory()
    ReputationScore.objects.create(user=scored, total=Decimal("250"))
    return {
        "new": UserFactory(),
        "unverified": UserFactory(verified=False),
        "unverified-pinned": _pinned(UserFactory(verified=False), 3),
        "scored": scored,
        "trusted": _pinned(UserFactory(), 3),
        "leader": _pinned(UserFactory(), 4),
        "premium": _premium(UserFactory()),
        "granted": grant(UserFactory(), "challenges.create_private_challenge"),
        "grouped": grouped,
        "superuser": UserFactory(is_superuser=True, is_staff=True, mfa=False),
    }


def _answers(user: User) -> dict:
    return {
        "verified": user_is_verified(user),
        "level": trust_level_of(user),
        "premium": market_permissions.is_premium(user),
        "perms": {perm: user.has_perm(perm) for perm in PERMS},
        "all": user.get_all_permissions(),
        "can_sell": market_permissions.can_sell(user),
    }


@pytest.mark.usefixtures("page_cache_off")
@pytest.mark.parametrize("name", PAGES)
def test_a_signed_in_page_costs_at_most_a_few_queries_more(
    client, name, django_assert_max_num_queries
):
    url = reverse(name)
    # The members first: a new member changes the home page's figures (peerhub.figures).
    members = (UserFactory(), _pinned(_premium(UserFactory()), 3))
    client.get(url)  # warms the per-process caches, signed out and in alike
    with django_assert_max_num_queries(1000) as signed_out:
        assert client.get(url).status_code == 200
    for member in members:
        client.force_login(member)
        with django_assert_max_num_queries(len(signed_out) + SIGNED_IN_EXTRA):
            assert client.get(url).status_code == 200


def test_the_request_user_comes_in_one_query_with_every_answer(django_assert_num_queries):
    member = _pinned(_premium(UserFactory()), 3)
    with django_assert_num_queries(1):
        user = ModelBackend().get_user(member.pk)
    with django_assert_num_queries(0):
        answers = _answers(user)
    assert answers["premium"] and answers["verified"] and answers["level"] == 3
    assert answers["can_sell"] and answers["perms"]["challenges.create_private_challenge"]


def test_the_loaded_answers_equal_the_lazy_ones_for_every_kind_of_member():
    for kind, member in _members().items():
        for backend in (ModelBackend(), AuthenticationBackend()):
            loaded = backend.get_user(member.pk)
            assert _answers(loaded) == _answers(User.objects.get(pk=member.pk)), kind


def test_the_kept_statement_is_what_the_orm_compiles_now():
    """The member's load is compiled once per process: the apps' annotations must not depend on
    the request or the clock, or the kept statement would drift from a fresh one."""
    _pinned(_premium(UserFactory()), 3)  # the statement is compiled before and after facts alike
    kept = load_statement("default")
    fresh = (
        User.objects.annotate(**request_user_annotations()).filter(pk=-730_193_751).query
    ).sql_with_params()
    assert (kept.sql, kept.params) == (fresh[0], list(fresh[1]))


def test_the_loaded_member_is_the_orm_member_field_by_field():
    for kind, member in _members().items():
        loaded = request_user_load(member.pk)
        orm = User.objects.annotate(**request_user_annotations()).get(pk=member.pk)
        for field in User._meta.concrete_fields:
            assert getattr(loaded, field.attname) == getattr(orm, field.attname), (kind, field)
        for name in request_user_annotations():
            value, expected = getattr(loaded, name), getattr(orm, name)
            assert (value, type(value)) == (expected, type(expected)), (kind, name)
        assert loaded._state.db == "default" and not loaded._state.adding
        assert loaded == orm and loaded.get_session_auth_hash() == orm.get_session_auth_hash()


def test_an_inactive_or_missing_member_is_nobody():
    member = UserFactory(is_active=False)
    assert ModelBackend().get_user(member.pk) is None
    assert AuthenticationBackend().get_user(member.pk + 1000) is None
    assert request_user_load("not a number") is None
    assert request_user_load(None) is None


def test_a_signed_in_member_with_a_group_keeps_the_groups_permissions(client):
    group = Group.objects.create(name="editors")
    group.permissions.add(Permission.objects.get(codename="change_challenge"))
    member = UserFactory()
    member.groups.add(group)
    client.force_login(member)
    response = client.get(reverse("home"))
    assert response.wsgi_request.user.has_perm("challenges.change_challenge")
    assert not response.wsgi_request.user.has_perm("challenges.delete_challenge")


@pytest.mark.parametrize(
    "redis_url, engine",
    [("", "django.contrib.sessions.backends.db"),
     ("redis://127.0.0.1:6379/5", "django.contrib.sessions.backends.cached_db")],
)  # fmt: skip
def test_sessions_are_read_from_the_cache_only_when_redis_is_set(redis_url, engine):
    from tests.peerhub.test_settings import run

    show = "import django; django.setup(); from django.conf import settings as s; "
    env = {"REDIS_URL": redis_url} if redis_url else {}
    result = run(show + "print(s.SESSION_ENGINE)", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == engine
