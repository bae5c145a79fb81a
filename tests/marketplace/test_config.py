"""Provider configuration that fails closed (issue 15): the `payments` system checks and the
banner of a production demo. Production-ness is what settings decided at import
(PEERHUB_MARKETPLACE["production"]); each test overrides it with the setup it tries. Whole
processes (gunicorn's import, `check --deploy`, Celery) are tried in tests/peerhub/test_settings.py.
"""

import pytest
from django.core import checks
from django.urls import reverse
from django.utils.crypto import salted_hmac

from marketplace.checks import TAG

NO_OPT_IN = {"payments": False, "payouts": False}
OPT_IN = {"payments": True, "payouts": True}


@pytest.fixture
def money(settings):
    """Set PEERHUB_MARKETPLACE keys (and the provider secrets) for one test."""

    def configure(*, secrets=None, **marketplace):
        settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, **marketplace}
        for name, value in (secrets or {}).items():
            setattr(settings, name, value)

    return configure


def ids() -> set[str]:
    return {message.id for message in checks.run_checks(tags=[TAG])}


def stripe_live(money, **marketplace):
    """Real payments through Stripe, payouts through the sandbox named on purpose."""
    money(
        **{
            "production": True,
            "payment_provider": "stripe",
            "payout_provider": "sandbox",
            "sandbox_in_production": {"payments": False, "payouts": True},
            **marketplace,
        },
        secrets={"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"},
    )


def test_the_development_default_passes(money):
    money(production=False, payment_provider="sandbox", payout_provider="sandbox",
          sandbox_in_production=NO_OPT_IN)  # fmt: skip
    assert ids() == set()


def test_production_refuses_the_sandbox_without_the_opt_in(money):
    money(production=True, payment_provider="sandbox", payout_provider="sandbox",
          sandbox_in_production=NO_OPT_IN)  # fmt: skip
    found = checks.run_checks(tags=[TAG])
    assert {message.id for message in found} == {"marketplace.E002", "marketplace.E006"}
    assert all(message.level == checks.ERROR for message in found)


def test_production_takes_the_sandbox_named_on_purpose(money):
    money(production=True, payment_provider="sandbox", payout_provider="sandbox",
          sandbox_in_production=OPT_IN)  # fmt: skip
    assert ids() == set()


def test_production_with_stripe_and_both_secrets_passes(money):
    stripe_live(money)
    assert ids() == set()


@pytest.mark.parametrize(
    "missing, error",
    [("STRIPE_SECRET_KEY", "marketplace.E003"), ("STRIPE_WEBHOOK_SECRET", "marketplace.E004")],
)
def test_production_refuses_stripe_without_its_secrets(money, settings, missing, error):
    stripe_live(money)
    setattr(settings, missing, "")
    found = checks.run_checks(tags=[TAG])
    assert [(message.id, message.level) for message in found] == [(error, checks.ERROR)]
    assert missing in found[0].msg


def test_development_only_warns_about_stripe_without_its_secrets(money):
    money(production=False, payment_provider="stripe",
          secrets={"STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": ""})  # fmt: skip
    found = checks.run_checks(tags=[TAG])
    assert {message.id for message in found} == {"marketplace.W003", "marketplace.W004"}
    assert not any(message.is_serious() for message in found)


@pytest.mark.parametrize("production", [True, False])
def test_an_unknown_payment_provider_is_refused_in_every_mode(money, production):
    money(production=production, payment_provider="paypal", sandbox_in_production=OPT_IN)
    found = checks.run_checks(tags=[TAG])
    assert [message.id for message in found] == ["marketplace.E001"]
    assert "'paypal'" in found[0].msg


@pytest.mark.parametrize("name", ["stripe", "wire"])
def test_a_payout_provider_that_cannot_pay_out_is_refused(money, name):
    money(production=False, payout_provider=name)
    found = checks.run_checks(tags=[TAG])
    assert [message.id for message in found] == ["marketplace.E005"]
    assert ("Stripe Connect" in found[0].msg) == (name == "stripe")


def test_production_refuses_sandbox_payouts_without_the_opt_in_even_with_stripe(money):
    stripe_live(money, sandbox_in_production=NO_OPT_IN)
    assert ids() == {"marketplace.E006"}


def test_the_opt_in_for_payouts_does_not_cover_sandbox_payments(money):
    money(production=True, payment_provider="sandbox", payout_provider="sandbox",
          sandbox_in_production={"payments": False, "payouts": True})  # fmt: skip
    assert ids() == {"marketplace.E002"}


@pytest.mark.parametrize("production", [True, False])
def test_an_empty_sandbox_webhook_secret_is_refused_while_the_sandbox_takes_payments(
    money, production
):
    money(production=production, payment_provider="sandbox", sandbox_in_production=OPT_IN,
          secrets={"SANDBOX_WEBHOOK_SECRET": ""})  # fmt: skip
    assert ids() == {"marketplace.E007"}


def test_an_empty_sandbox_webhook_secret_does_not_matter_with_stripe(money, settings):
    stripe_live(money)
    settings.SANDBOX_WEBHOOK_SECRET = ""
    assert ids() == set()


def test_the_sandbox_webhook_secret_is_derived_from_the_secret_key_not_the_key_itself(settings):
    derived = salted_hmac(
        "peerhub.marketplace.sandbox-webhook", "", secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()
    assert derived == settings.SANDBOX_WEBHOOK_SECRET
    assert settings.SECRET_KEY not in settings.SANDBOX_WEBHOOK_SECRET


def test_the_checks_also_run_under_check_deploy(money):
    money(production=True, payment_provider="sandbox", sandbox_in_production=NO_OPT_IN)
    found = checks.run_checks(include_deployment_checks=True, tags=[TAG])
    assert "marketplace.E002" in {message.id for message in found}


# --- The banner ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_production_demo_shows_the_banner_on_every_page(client, money):
    money(production=True, payment_provider="sandbox", payout_provider="sandbox",
          sandbox_in_production=OPT_IN)  # fmt: skip
    for name in ["home", "marketplace:offer-list", "account_login"]:
        html = client.get(reverse(name)).content.decode()
        assert '<section class="payments-notice" aria-label="Payments notice">' in html, name
        assert "Demo payments:</strong> no real money moves" in html, name


@pytest.mark.django_db
def test_stripe_with_sandbox_payouts_says_that_payouts_are_made_by_hand(client, money):
    stripe_live(money)
    html = client.get(reverse("home")).content.decode()
    assert "Payouts by hand:" in html
    assert "Demo payments" not in html


@pytest.mark.django_db
def test_development_shows_no_banner(client, money):
    money(production=False, payment_provider="sandbox", payout_provider="sandbox")
    assert b"payments-notice" not in client.get(reverse("home")).content
