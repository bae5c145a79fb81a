"""The conduct loop in Chromium (issue 21): a member flags a spam comment, a member at the
moderation trust level removes it from the review queue, the spammer's new account is suspended
(they can no longer sign in), and the flagger sees their flag was helpful."""

import pytest
from playwright.sync_api import expect

from challenges import services as challenge_services
from peerhub.models import User
from tests.e2e.test_fork_journey import PASSWORD, log_in
from tests.factories import ChallengeFactory, UserFactory
from tests.reputation.flag_helpers import moderator

pytestmark = pytest.mark.browser


def test_member_flags_spam_moderator_removes_it_spammer_suspended_flagger_sees_helpful(
    chromium_available, live_server, browser, artifacts
):
    challenge = ChallengeFactory(title="Clean water for every school")
    spammer = UserFactory(username="spammy", display_name="Spammy McSpam")
    UserFactory(username="fiona", display_name="Fiona Flagger")
    moderator(username="mona", display_name="Mona Moderator")
    challenge_services.comment_create(
        author=spammer, target=challenge, body="Cheap watches!!! Visit my shop today."
    )

    # The member flags the comment as spam.
    fiona = log_in(browser, live_server, "fiona")
    fiona.goto(live_server.url + challenge.get_absolute_url())
    comment = fiona.locator(".comment", has_text="Cheap watches")
    comment.get_by_role("link", name="Flag").click()
    expect(fiona.get_by_role("heading", name="Flag this comment")).to_be_visible()
    fiona.get_by_label("Spam").check()
    fiona.screenshot(path=str(artifacts / "flag-form.png"))
    fiona.get_by_role("button", name="Flag").click()
    expect(fiona.get_by_text("your flag is recorded")).to_be_visible()

    # A member at the moderation trust level removes it from the review queue.
    mona = log_in(browser, live_server, "mona")
    mona.goto(live_server.url + "/moderation/queue/")
    entry = mona.locator(".queue-entry", has_text="Cheap watches")
    expect(entry).to_contain_text("Spam \u00d71")
    mona.set_viewport_size({"width": 390, "height": 900})
    mona.screenshot(path=str(artifacts / "review-queue-390.png"), full_page=True)
    entry.get_by_role("button", name="Agree: remove").click()
    expect(mona.get_by_text("Decision recorded")).to_be_visible()
    expect(mona.locator(".queue-entry", has_text="Cheap watches")).to_have_count(0)

    # The spammer's new account is suspended: they cannot sign in.
    assert not User.objects.get(username="spammy").is_active
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or e-mail").fill("spammy")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)

    # The public record shows the removal by role, and the comment keeps a stub that says why.
    page.goto(live_server.url + "/moderation/log/")
    expect(page.get_by_role("cell", name="Removed (flags upheld)")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Mona")
    expect(page.locator("body")).not_to_contain_text("Fiona")
    page.goto(live_server.url + challenge.get_absolute_url())
    expect(page.get_by_text("Removed by moderators: spam.")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Cheap watches")

    # The flagger sees that their flag was helpful.
    fiona.goto(live_server.url + "/moderation/my-flags/")
    expect(fiona.locator(".flag-status")).to_have_text("Helpful")
    fiona.screenshot(path=str(artifacts / "my-flags.png"))
