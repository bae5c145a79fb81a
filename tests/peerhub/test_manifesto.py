import pytest
from django.urls import reverse
from django.utils import timezone

from peerhub import selectors, services
from peerhub.exceptions import DomainError, NotAllowed
from peerhub.models import ManifestoSignature
from tests.factories import ManifestoSignatureFactory, ManifestoVersionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manifesto():
    return ManifestoVersionFactory(number=1)


def test_verified_member_signs_the_current_version(user, manifesto):
    signature, created = services.manifesto_sign(user=user)
    assert created
    assert signature.version == manifesto
    assert selectors.manifesto_has_signed(user=user, version=manifesto)


def test_signing_twice_changes_nothing(user, manifesto):
    first, _ = services.manifesto_sign(user=user)
    second, created = services.manifesto_sign(user=user)
    assert not created
    assert second == first
    assert ManifestoSignature.objects.count() == 1


def test_unverified_member_cannot_sign(unverified_user, manifesto):
    with pytest.raises(NotAllowed):
        services.manifesto_sign(user=unverified_user)
    assert not ManifestoSignature.objects.exists()


def test_signing_needs_a_published_manifesto(user):
    ManifestoVersionFactory(published_at=None)
    with pytest.raises(DomainError) as error:
        services.manifesto_sign(user=user)
    assert error.value.code == "no_manifesto"


def test_a_new_version_asks_everyone_to_sign_again(user, manifesto):
    services.manifesto_sign(user=user)
    newer = ManifestoVersionFactory(number=2, published_at=None)
    services.manifesto_publish(version=newer)

    assert selectors.manifesto_current() == newer
    assert not selectors.manifesto_has_signed(user=user, version=newer)
    assert selectors.manifesto_has_signed(user=user, version=manifesto)

    _, created = services.manifesto_sign(user=user)
    assert created
    assert list(user.manifesto_signatures.values_list("version__number", flat=True)) == [1, 2]


def test_future_publication_is_not_current_yet(manifesto):
    ManifestoVersionFactory(number=2, published_at=timezone.now() + timezone.timedelta(days=1))
    assert selectors.manifesto_current() == manifesto


def test_manifesto_page_lists_signatories_and_offers_signing(client, user, manifesto):
    ManifestoSignatureFactory(version=manifesto, user=UserFactory(display_name="Grace Hopper"))
    client.force_login(user)
    response = client.get(reverse("manifesto"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Grace Hopper" in html
    assert "Sign the manifesto" in html


def test_visitor_is_invited_to_join_before_signing(client, manifesto):
    html = client.get(reverse("manifesto")).content.decode()
    assert "Join to sign" in html
    assert "Sign the manifesto</button>" not in html


def test_unverified_member_is_told_to_verify(client, unverified_user, manifesto):
    client.force_login(unverified_user)
    html = client.get(reverse("manifesto")).content.decode()
    assert "Verify your e-mail address to sign" in html


def test_sign_form_post_redirects_and_lists_the_member(member_client, manifesto):
    response = member_client.post(reverse("manifesto-sign"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("manifesto")
    html = response.content.decode()
    assert "Thank you for signing" in html
    assert member_client.user.name in html


def test_sign_with_htmx_returns_the_card_and_the_new_list(member_client, manifesto):
    response = member_client.post(reverse("manifesto-sign"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="manifesto-sign"' in html
    assert "You have signed this version" in html
    assert 'hx-swap-oob="true"' in html
    assert member_client.user.name in html
    assert "<html" not in html


def test_sign_requires_login(client, manifesto):
    response = client.post(reverse("manifesto-sign"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert not ManifestoSignature.objects.exists()


def test_sign_refuses_get(member_client, manifesto):
    assert member_client.get(reverse("manifesto-sign")).status_code == 405


def test_manifesto_page_without_any_version(client, db):
    response = client.get(reverse("manifesto"))
    assert response.status_code == 200
    assert "being written" in response.content.decode()


def test_manifesto_page_queries_stay_bounded(client, manifesto, django_assert_max_num_queries):
    for _ in range(60):
        ManifestoSignatureFactory(version=manifesto)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("manifesto"))
    assert response.status_code == 200


def test_home_queries_stay_bounded(client, manifesto, django_assert_max_num_queries):
    for _ in range(30):
        ManifestoSignatureFactory(version=manifesto)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("home"))
    assert "Build on each other" in response.content.decode()
