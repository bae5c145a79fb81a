"""Files on an order's messages and deliveries: checked like a solution's, fetched only by the
buyer, the seller and staff, through the browser and the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from challenges import files, uploads
from challenges.models import Blob
from marketplace import services
from marketplace.models import Order, OrderMessageFile
from peerhub.exceptions import DomainError
from tests.challenges.test_files import CSV, png, stored_names
from tests.factories import UserFactory
from tests.helpers import assert_error
from tests.marketplace.factories import OfferFactory, paid_order, place

pytestmark = pytest.mark.django_db

# A binary STL of one triangle: 80-byte header, the count, then 50 bytes per triangle.
STL = b"\0" * 80 + (1).to_bytes(4, "little") + b"\0" * 50
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


# --- Files on the brief, at placement --------------------------------------------------------


def test_files_attached_when_the_order_is_placed_go_with_the_brief():
    order = place(uploads=[upload("roof.png", png()), upload("plan.pdf", PDF)])
    brief = order.messages.get()
    assert brief.is_brief and brief.author == order.buyer
    assert brief.body_html.strip() == "<p>Files for the brief.</p>"  # stored, not rendered on read
    assert sorted(brief.files.values_list("path", flat=True)) == ["plan.pdf", "roof.png"]


def test_a_refused_brief_file_places_no_order_and_stores_nothing():
    offer = OfferFactory()
    with pytest.raises(DomainError) as refused:
        place(offer=offer, uploads=[upload("plan.pdf", PDF), upload("model.stl", STL)])
    assert refused.value.code == "file_type"  # STL is for solutions, not orders
    assert not Order.objects.exists() and not Blob.objects.exists()
    assert stored_names() == []


def test_the_offer_page_places_an_order_with_files_shown_with_the_brief(client):
    offer = OfferFactory()
    buyer = UserFactory()
    client.force_login(buyer)
    page = client.get(offer.get_absolute_url()).content.decode()
    assert 'enctype="multipart/form-data"' in page and "Files for the brief" in page
    response = client.post(
        reverse("marketplace:order-place", args=[offer.pk]),
        {"brief": "Our roof.", "files": [upload("plan.pdf", PDF)]},
    )
    assert response.status_code == 302
    order = Order.objects.get()
    entry = OrderMessageFile.objects.get()
    page = client.get(reverse("marketplace:order-detail", args=[order.pk])).content.decode()
    assert 'class="small order-files brief-files"' in page and file_url(entry) in page
    assert "No messages yet." in page  # the brief's files are not a message of the thread


def test_the_offer_page_shows_a_refused_brief_file_as_a_form_error(client):
    offer = OfferFactory()
    client.force_login(UserFactory())
    response = client.post(
        reverse("marketplace:order-place", args=[offer.pk]),
        {"brief": "Our roof.", "files": [upload("run.exe", b"MZ\x90\x00" * 64)]},
    )
    assert response.status_code == 400
    assert "not a kind of file PeerHub accepts" in response.content.decode()
    assert not Order.objects.exists() and stored_names() == []


@pytest.mark.parametrize("who", sorted(WHO))
def test_only_the_buyer_the_seller_and_staff_fetch_brief_files(client, who):
    order = place(uploads=[upload("plan.pdf", PDF)])
    entry = OrderMessageFile.objects.get()
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
        assert response.status_code in (302, 404)
        return
    if who == "staff" and response.status_code == 302:
        pytest.skip("staff pages ask for two-factor setup first")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def test_the_api_places_an_order_with_files_and_with_uploads():
    offer = OfferFactory()
    buyer = UserFactory()
    api = APIClient()
    api.force_authenticate(buyer)
    response = api.post(
        reverse("api-order-list"),
        {"offer": offer.pk, "brief": "Our roof.", "files": [upload("plan.pdf", PDF)]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    messages = api.get(reverse("api-order-messages", args=[response.json()["id"]])).json()
    assert messages["results"][0]["is_brief"] is True
    assert [f["path"] for f in messages["results"][0]["files"]] == ["plan.pdf"]
    # the order itself names its brief's files, in its answer, its detail and the list
    assert [f["path"] for f in response.json()["brief_files"]] == ["plan.pdf"]
    detail = api.get(reverse("api-order-detail", args=[response.json()["id"]])).json()
    assert detail["brief_files"][0]["url"].endswith("/files/plan.pdf/")
    listed = api.get(reverse("api-order-list")).json()["results"]
    assert [f["path"] for f in listed[0]["brief_files"]] == ["plan.pdf"]

    uploaded = api.post(
        reverse("api-upload-list"), {"files": [upload("roof.png", png())]}, format="multipart"
    ).json()[0]
    response = api.post(
        reverse("api-order-list"),
        {"offer": offer.pk, "brief": "Again.", "attach": [{"upload": uploaded["id"]}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=response.json()["id"])
    assert list(
        OrderMessageFile.objects.filter(message__order=order).values_list("path", flat=True)
    ) == ["roof.png"]


def test_the_api_refuses_someone_elses_upload_on_an_order():
    offer = OfferFactory()
    owner = UserFactory()
    owners_api = APIClient()
    owners_api.force_authenticate(owner)
    theirs = owners_api.post(
        reverse("api-upload-list"), {"files": [upload("plan.pdf", PDF)]}, format="multipart"
    ).json()[0]["id"]
    api = APIClient()
    api.force_authenticate(UserFactory())
    response = api.post(
        reverse("api-order-list"),
        {"offer": offer.pk, "brief": "Mine now?", "attach": [{"upload": theirs}]},
        format="json",
    )
    assert_error(response, 400, "upload_unknown")
    assert not Order.objects.exists()


def test_an_stl_upload_cannot_be_attached_to_an_order():
    buyer = UserFactory()
    [row] = uploads.uploads_create(user=buyer, uploads=[upload("part.stl", STL)])
    with pytest.raises(DomainError) as refused:
        place(buyer=buyer, attachments=[uploads.Attachment(upload_id=row.pk)])
    assert refused.value.code == "file_type"
    assert not Order.objects.exists()
