"""HTML pages of prize purses and lineage money: the purse (rules, backers, contribute, and
after the results where the money went), a member's earnings. Views parse, call one service
or selector, answer."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from challenges import permissions as challenge_permissions
from challenges.models import Challenge
from challenges.views.base import perform, refuse
from peerhub.exceptions import DomainError

from . import ledger, purse_selectors
from .forms import ContributeForm, PayoutForm, PurseRulesForm
from .models import default_currency
from .services import purses

EARNINGS_PER_PAGE = 25


def _challenge(request, slug: str) -> Challenge:
    challenge = get_object_or_404(Challenge, slug=slug)
    if not challenge_permissions.can_view_challenge(request.user, challenge):
        raise Http404("No such challenge.")
    return challenge


def purse_context(request, challenge: Challenge) -> dict:
    """What the purse page and the challenge page's purse section show."""
    purse = purse_selectors.purse_for(challenge)
    can_edit = challenge_permissions.can_edit_challenge(request.user, challenge)
    context = {
        "challenge": challenge,
        "purse": purse,
        "can_edit_rules": can_edit,
        "fee_rate": purses.purse_fee_rate(),
        "min_contribution": purses.min_contribution(purse.currency if purse else None),
        "default_share": purses.default_lineage_share(),
        "max_share": purses.max_lineage_share(),
        "contributing": challenge.status in purses.CONTRIBUTING_STATUSES,
        "signed_in": request.user.is_authenticated,
    }
    if purse is not None:
        context["summary"] = purse_selectors.purse_summary(purse)
        context["contribute_form"] = ContributeForm(currency=purse.currency)
    if can_edit and (purse is None or not context["summary"].frozen):
        context["rules_form"] = PurseRulesForm(
            rollover_choices=purse_selectors.rollover_candidates(
                user=request.user, challenge=challenge
            ),
            initial={
                "rollover_to": purse.rollover_to if purse else None,
                "mode": purse.mode if purse else "places",
                "places": ", ".join(str(p) for p in purse.places) if purse else "60, 30, 10",
                "lineage_share": int(
                    (purse.lineage_share if purse else purses.default_lineage_share()) * 100
                ),
            },
        )
    return context


def purse_page(request, slug: str):
    challenge = _challenge(request, slug)
    context = purse_context(request, challenge)
    purse = context["purse"]
    if purse is None and not context["can_edit_rules"]:
        raise Http404("This challenge has no prize purse.")
    if purse is not None:
        context["flow_rows"], context["flow_svg"] = purse_selectors.money_flow(purse)
    return render(request, "marketplace/purse.html", context)


@login_required
@require_POST
def purse_rules(request, slug: str):
    challenge = _challenge(request, slug)
    form = PurseRulesForm(
        request.POST,
        rollover_choices=purse_selectors.rollover_candidates(
            user=request.user, challenge=challenge
        ),
    )
    back = purse_url(challenge)
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, _("Check the prize rules: {problems}").format(problems=problems))
        return redirect(back)
    data = form.cleaned_data
    return perform(
        request,
        lambda: purses.purse_configure(
            challenge=challenge,
            by=request.user,
            mode=data["mode"],
            places=data["places"],
            lineage_share=Decimal(data["lineage_share"]) / 100,
            rollover_to=data["rollover_to"],
        ),
        done=_("Prize rules saved: they freeze once the first contribution is made."),
        then=back,
        back=back,
    )


@login_required
@require_POST
def purse_contribute(request, slug: str):
    challenge = _challenge(request, slug)
    purse = purse_selectors.purse_for(challenge)
    # Read in the purse's own currency: 1000 is ¥1,000 in a JPY purse, not ¥100,000.
    form = ContributeForm(request.POST, currency=purse.currency if purse else default_currency())
    back = purse_url(challenge)
    if not form.is_valid():
        errors = form.errors.get("amount")
        messages.error(request, str(errors[0]) if errors else _("Give an amount to contribute."))
        return redirect(back)
    try:
        payment = purses.contribution_start(
            challenge=challenge,
            backer=request.user,
            amount=form.cleaned_data["amount"],
            public_name=form.cleaned_data["public_name"],
            return_url=back,
        )
    except DomainError as error:
        return refuse(request, error, back)
    return redirect(payment.checkout_url)


def purse_url(challenge: Challenge) -> str:
    from django.urls import reverse

    return reverse("marketplace:purse", kwargs={"slug": challenge.slug})


@login_required
def earnings(request):
    rows = purse_selectors.earnings_of(request.user)
    page = Paginator(rows, EARNINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "marketplace/earnings.html",
        {
            "page": page,
            "totals": purse_selectors.earnings_totals(request.user),
            "balances": ledger.balances_of(request.user),
            "payout_form": PayoutForm(user=request.user),
        },
    )
