"""The staff dashboard (issue 18): one page with every queue that needs a person and its count,
counted by the app that owns the data (hooks), linked from the header for staff only."""

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges import services as challenge_services
from marketplace import services as market_services
from marketplace.models import Refund, Transfer
from peerhub import staff
from reputation.models import MemberTrust, TrustSnapshot
from reputation.moderation import services as moderation_services
from tests.factories import ChallengeFactory, UserFactory
from tests.marketplace.factories import delivered_order, paid_order

pytestmark = pytest.mark.django_db

URL = "/staff/"


def counts() -> dict[str, int]:
    return {queue.key: queue.count for queue in staff.staff_queues()}


def test_every_queue_starts_at_zero():
    assert counts() == {
        "trust_review": 0, "flag_review": 0, "disputes": 0, "money": 0, "hidden": 0, "wash": 0
    }  # fmt: skip


def test_each_queue_counts_what_needs_a_person():
    snapshot = TrustSnapshot.objects.create(version=1)
    MemberTrust.objects.create(snapshot=snapshot, user=UserFactory(), trust=0.01, low_trust=True)
    MemberTrust.objects.create(snapshot=snapshot, user=UserFactory(), trust=1.0)
    order = delivered_order()
    market_services.order_dispute(order=order, by=order.buyer, reason="Wrong town")
    refunded = paid_order()
    market_services.order_decline(order=refunded, by=refunded.seller)
    Refund.objects.update(state=Transfer.State.FAILED)
    challenge = ChallengeFactory()
    comment = challenge_services.comment_create(author=UserFactory(), target=challenge, body="x")
    challenge_services.comment_set_hidden(
        comment=comment, by=challenge.organisers.get(), hidden=True
    )
    moderation_services.flag_create(
        flagger=UserFactory(), kind="comment", object_id=comment.pk, reason="spam"
    )
    assert counts() == {
        "trust_review": 1, "flag_review": 1, "disputes": 1, "money": 1, "hidden": 1, "wash": 0
    }  # fmt: skip


def test_only_the_latest_trust_snapshot_counts():
    old = TrustSnapshot.objects.create(version=1)
    MemberTrust.objects.create(snapshot=old, user=UserFactory(), trust=0.01, low_trust=True)
    TrustSnapshot.objects.create(version=2, computed_at=timezone.now())
    assert counts()["trust_review"] == 0


def test_queues_with_work_come_first_and_link_to_their_pages(client, staff_user):
    order = delivered_order()
    market_services.order_dispute(order=order, by=order.buyer, reason="Wrong town")
    client.force_login(staff_user)
    html = client.get(URL).content.decode()
    assert html.index("Disputed orders") < html.index("Members awaiting trust review")
    assert reverse("reputation:trust-moderation") in html
    assert reverse("marketplace:staff-money") in html
    assert 'class="card staff-queue needs-attention" id="queue-disputes"' in html


def test_members_are_refused_and_visitors_sent_to_sign_in(client, user):
    assert "/accounts/login/" in client.get(URL)["Location"]
    client.force_login(user)
    assert client.get(URL).status_code == 403


def test_the_header_links_staff_to_the_dashboard_and_no_one_else(client, user, staff_user):
    client.force_login(user)
    assert f'href="{URL}"' not in client.get(reverse("manifesto")).content.decode()
    client.force_login(staff_user)
    assert f'href="{URL}"' in client.get(reverse("manifesto")).content.decode()


def test_the_dashboard_runs_a_bounded_number_of_queries(
    client, staff_user, django_assert_max_num_queries
):
    client.force_login(staff_user)
    client.get(URL)
    with django_assert_max_num_queries(12) as small:
        client.get(URL)
    for _ in range(3):
        order = delivered_order()
        market_services.order_dispute(order=order, by=order.buyer, reason="Wrong")
    with django_assert_max_num_queries(len(small)):
        assert "3" in client.get(URL).content.decode()


def test_the_api_twin_lists_the_same_queues_for_staff_only(api_client, user, staff_user):
    order = delivered_order()
    market_services.order_dispute(order=order, by=order.buyer, reason="Wrong town")
    api_client.force_authenticate(user)
    assert api_client.get("/api/staff/queues/").status_code == 403
    api_client.force_authenticate(staff_user)
    queues = api_client.get("/api/staff/queues/").json()
    assert queues[0]["key"] == "disputes" and queues[0]["count"] == 1
    assert {q["key"] for q in queues} == {
        "trust_review",
        "flag_review",
        "disputes",
        "money",
        "hidden",
        "wash",
    }
