import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from peerhub import selectors, services
from peerhub.models import ManifestoSignature, User
from tests.factories import PASSWORD, ManifestoVersionFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "newcomer@example.org",
    "username": "newcomer",
    "password1": "a long and unusual passphrase",
    "password2": "a long and unusual passphrase",
}


def confirmation_link(mailoutbox) -> str:
    assert mailoutbox, "no e-mail was sent"
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mailoutbox[-1].body)
    assert match, mailoutbox[-1].body
    return match.group(1)


def test_sign_up_verify_and_sign_the_manifesto(client, mailoutbox):
    manifesto = ManifestoVersionFactory()
    response = client.post(reverse("account_signup"), SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")

    user = User.objects.get(username="newcomer")
    assert not selectors.user_is_verified(user)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["newcomer@example.org"]

    link = confirmation_link(mailoutbox)
    assert client.get(link).status_code == 200  # a confirmation page, not a GET side effect
    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    # Verification logs the member in; now they can sign.
    response = client.post(reverse("manifesto-sign"), follow=True)
    assert response.status_code == 200
    assert ManifestoSignature.objects.filter(user=user, version=manifesto).exists()
    assert "newcomer" in response.content.decode()


def test_unverified_member_cannot_log_in_until_verified(client, mailoutbox):
    UserFactory(username="pending", verified=False)
    response = client.post(reverse("account_login"), {"login": "pending", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert len(mailoutbox) == 1  # the verification e-mail is sent again


@pytest.mark.parametrize("login", ["alice", "alice@example.org"])
def test_log_in_by_username_or_email(client, login):
    UserFactory(username="alice", email="alice@example.org")
    response = client.post(reverse("account_login"), {"login": login, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_wrong_password_is_a_form_error(client):
    UserFactory(username="alice")
    response = client.post(reverse("account_login"), {"login": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_password_reset_does_not_reveal_whether_an_address_is_registered(client, mailoutbox):
    UserFactory(email="known@example.org")
    known = client.post(reverse("account_reset_password"), {"email": "known@example.org"})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # Both addresses get a mail; only the registered one gets a reset link.
    assert len(mailoutbox) == 2
    assert "password/reset/key" in mailoutbox[0].body
    assert "password/reset/key" not in mailoutbox[1].body


def test_signup_with_a_taken_address_does_not_reveal_it(client, mailoutbox):
    UserFactory(email="taken@example.org")
    response = client.post(reverse("account_signup"), {**SIGNUP, "email": "taken@example.org"})
    # The same answer as for a fresh address: "we sent you an e-mail".
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")


def test_failed_logins_are_rate_limited_even_with_the_right_password(client):
    UserFactory(username="alice")
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "alice", "password": "bad"})
    response = client.post(reverse("account_login"), {"login": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_goes_through_allauth(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_staff_reach_the_admin_after_logging_in(client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("admin:index")).status_code == 200


def test_profile_page_shows_member_and_signature(client, user):
    manifesto = ManifestoVersionFactory()
    services.manifesto_sign(user=user)
    user.bio = "I build **bridges**."
    user.skills = "hydraulics, welding"
    user.save()
    html = client.get(reverse("profile", args=[user.username])).content.decode()
    assert user.name in html
    assert "<strong>bridges</strong>" in html
    assert "welding" in html
    assert f"Signed the current manifesto (v{manifesto.number})" in html


def test_profile_of_unknown_member_is_404(client, db):
    assert client.get(reverse("profile", args=["ghost"])).status_code == 404


def test_member_edits_their_profile(member_client):
    response = member_client.post(
        reverse("profile-edit"),
        {"display_name": " Ada L. ", "bio": "Hello", "skills": "maths,  engines ,"},
    )
    assert response.status_code == 302
    user = User.objects.get(pk=member_client.user.pk)
    assert user.display_name == "Ada L."
    assert user.skill_list == ["maths", "engines"]


def test_profile_edit_rejects_overlong_input_with_a_form_error(member_client):
    response = member_client.post(
        reverse("profile-edit"), {"display_name": "x" * 200, "bio": "", "skills": ""}
    )
    assert response.status_code == 200
    assert "at most 80 characters" in response.content.decode()


def test_profile_edit_requires_login(client, db):
    response = client.get(reverse("profile-edit"))
    assert response.status_code == 302


def test_confirming_the_address_signs_the_member_in_and_goes_home(client, mailoutbox):
    """Issue 18: not the login page after confirming (allauth's login on confirmation)."""
    client.post(reverse("account_signup"), SIGNUP)
    response = client.post(confirmation_link(mailoutbox))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    member = User.objects.get(username="newcomer")
    assert client.session["_auth_user_id"] == str(member.pk)
    assert "Welcome, " in client.get(reverse("home")).content.decode()  # with "start here"


def test_a_confirmation_link_opened_in_another_browser_confirms_but_does_not_sign_in(
    client, mailoutbox
):
    from django.test import Client

    client.post(reverse("account_signup"), SIGNUP)
    other = Client()
    response = other.post(confirmation_link(mailoutbox))
    assert EmailAddress.objects.get(email=SIGNUP["email"]).verified
    assert "_auth_user_id" not in other.session
    assert response["Location"] == reverse("account_login")


def test_the_console_mailer_prints_the_verification_link_on_one_line(client, mailoutbox):
    """`make run` prints e-mails with peerhub.mail.ConsoleEmailBackend: the text as written, not
    quoted-printable wrapped at 76 characters (a link copied from two lines is a 404)."""
    import io

    from peerhub.mail import ConsoleEmailBackend

    client.post(reverse("account_signup"), SIGNUP)
    stream = io.StringIO()
    ConsoleEmailBackend(stream=stream).send_messages(mailoutbox)
    printed = stream.getvalue()
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", printed)
    assert link, printed
    assert link.group(0).endswith(confirmation_link(mailoutbox))
    assert "=\n" not in printed and "=3D" not in printed
    assert "To: newcomer@example.org" in printed and "Subject: [PeerHub]" in printed
