"""The staff moderation page of the trust step: staff only, lists the ring for review."""

import pytest
from django.urls import reverse

from reputation import trust
from reputation.models import MemberTrust, TrustSnapshot, Vote
from tests.factories import ChallengeFactory, UserFactory, make_solution

pytestmark = pytest.mark.django_db
URL = reverse("reputation:trust-moderation")


def test_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_members_who_are_not_staff_are_refused(member_client):
    assert member_client.get(URL).status_code == 403


def test_staff_see_that_no_snapshot_exists_yet(client, staff_user):
    client.force_login(staff_user)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"No trust snapshot yet" in response.content


def test_staff_see_the_ring_and_the_lowest_members_in_bounded_queries(
    client, staff_user, django_assert_max_num_queries
):
    honest = UserFactory.create_batch(6)
    ring = [UserFactory(username=f"ringer{i}") for i in range(4)]
    challenge = ChallengeFactory()
    posts = {m.pk: make_solution(challenge, m) for m in [staff_user, *honest, *ring]}
    for i, member in enumerate([staff_user, *honest]):
        for other in [staff_user, *honest][i + 1 : i + 4]:
            Vote.objects.create(voter=member, solution=posts[other.pk], value=1)
            Vote.objects.create(voter=other, solution=posts[member.pk], value=1)
    for a in ring:
        for b in ring:
            if a != b:
                Vote.objects.create(voter=a, solution=posts[b.pk], value=1)
    snapshot = trust.trust_compute()
    assert MemberTrust.objects.filter(snapshot=snapshot, low_trust=True).exists()
    client.force_login(staff_user)
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    for member in ring:
        assert member.username in page
    assert "nobody is banned" in page
    cut = snapshot.parameters["cut"]
    assert f"below the cut of {cut:.3f}" in page  # the relative cut, not the floor
    # Nothing was done to anyone: the ring members are as active as before.
    assert all(type(m).objects.get(pk=m.pk).is_active for m in ring)
    assert TrustSnapshot.objects.count() == 1


def test_the_admin_lists_snapshots_and_member_trust(admin_client):
    UserFactory(is_staff=True)
    trust.trust_compute()
    assert admin_client.get(reverse("admin:reputation_trustsnapshot_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:reputation_membertrust_changelist")).status_code == 200
