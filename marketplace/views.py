"""HTML pages of the marketplace. Each view parses, calls one selector or service, answers."""

from tempfile import SpooledTemporaryFile

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from challenges import artefacts
from challenges.history import history_context
from challenges.pagecache import as_visitors_see, visitors_row
from challenges.permissions import challenges_visible_to
from challenges.views.base import perform, refuse
from peerhub import confirm
from peerhub.exceptions import DomainError
from peerhub.models import Value
from peerhub.pagecache import Fragments, keep_until
from peerhub.paging import CountedPaginator, detached
from peerhub.widgets import enable_mentions
from reputation.selectors import reputation_summary

from . import exports, ledger, permissions, purse_selectors, selectors, services, wash
from .filters import OfferFilter
from .forms import (
    DeliverForm,
    DisputeForm,
    MessageForm,
    OfferForm,
    OrderPlaceForm,
    PayoutForm,
    ResolveForm,
    ReviewForm,
    SubscribeForm,
)
from .models import Offer, Order, OrderMessageFile, Payout, ProviderEvent, Refund, default_currency
from .money import AmountError, to_minor
from .pagecache import OFFER_LIST_SCOPES, orders_scope
from .plans import plans_ensure

OFFERS_PER_PAGE = 12
SORTS = [
    ("newest", gettext_lazy("Newest")),
    ("price", gettext_lazy("Price: low to high")),
    ("-price", gettext_lazy("Price: high to low")),
    ("delivery", gettext_lazy("Fastest delivery")),
    ("rating", gettext_lazy("Best rated")),
]
# The seller filter: at least this trust level.
SELLER_LEVELS = [
    (1, pgettext_lazy("trust level and above", "member+")),
    (2, pgettext_lazy("trust level and above", "regular+")),
    (3, pgettext_lazy("trust level and above", "trusted+")),
    (4, pgettext_lazy("trust level", "leader")),
]


def offer_list(request):
    def body(user) -> str:
        params = request.GET.copy()
        # Prices are typed in major units of the chosen currency (the site's by default) and
        # read by money.to_minor: 1000 is ¥1,000 among JPY offers, 12.50 is €12.50 among EUR
        # ones. A price only compares with offers in that currency.
        currency = (params.get("currency") or "").strip().upper()
        price_errors = []
        for name in ("min_price", "max_price"):
            if params.get(name):
                currency = currency or default_currency()
                try:
                    params[name] = str(to_minor(params[name], currency))
                except AmountError as error:  # "abc", "NaN", "12.505" EUR, "1000.5" JPY
                    params[name] = "invalid"
                    price_errors.append(error.message)
        if currency:
            params["currency"] = currency
        filterset = OfferFilter(params, queryset=Offer.objects.none(), request=request, viewer=user)
        offers = filterset.qs if filterset.is_valid() else Offer.objects.none()
        query = request.GET.copy()
        query.pop("page", None)
        return render_to_string(
            "marketplace/_offer_list_body.html",
            {
                "page": Paginator(offers, OFFERS_PER_PAGE).get_page(request.GET.get("page")),
                "filters": request.GET,
                "errors": filterset.errors,
                "price_errors": price_errors,
                "price_currency": currency or default_currency(),
                "currencies": selectors.offer_currencies(),
                "sorts": SORTS,
                "values": Value.objects.all(),
                "levels": SELLER_LEVELS,
                "querystring": query.urlencode(),
            },
            request=request,
        )

    # The filters and the offers depend on the member only through what they may see (and
    # their own paused offers): most members share the visitors' kept copy.
    shown = as_visitors_see(
        request,
        OFFER_LIST_SCOPES,
        "offer-list",
        body,
        alike=lambda: selectors.lists_like_a_visitor(request.user),
    )
    return render(
        request,
        "marketplace/offer_list.html",
        {"body": shown, "can_sell": permissions.can_sell(request.user)},
    )


def _form_problem(form, fallback: str) -> str:
    """The first thing a money form refused, for a message on the page it came from."""
    for errors in form.errors.values():
        return str(errors[0])
    return fallback


def _mentions_url(**query) -> str:
    """Where the editor asks for members to @mention: only those who may see what is written
    (selectors.mention_suggestions_for)."""
    url = reverse("api-marketplace-mention-suggestions")
    return f"{url}?{urlencode(query)}" if query else url


# The offer page's scopes (urls.py): what it shows of the offer, its reviews, its seller's
# standing and the lineage its royalties would pay.
OFFER_PAGE_SCOPES = ["offers", "reputation", "lists"]


def offer_detail(request, pk: int):
    # Read as a visitor reads it, for every member who shares what visitors see.
    offer = visitors_row(
        request,
        OFFER_PAGE_SCOPES,
        "offer-row",
        pk,
        lambda user: selectors.offer_get(user=user, pk=pk),
    )
    # A reservation lapses as time passes, with no write that would make the kept row stale.
    offer.active = selectors.slots_now(offer)
    # And a visitor's copy of the page is not served past that moment.
    keep_until(request, getattr(offer, "holds_lapse_at", None))
    return _offer_page(request, offer, OrderPlaceForm())


def offer_history(request, pk: int):
    """Every edit of an offer (its words, price, delivery, pause), for whoever may read it."""
    offer = selectors.offer_get(user=request.user, pk=pk)
    if not permissions.can_read_offer_words(request.user, offer):
        raise Http404("No such offer.")
    context = history_context(offer, services.OFFER_LABELS, services.offer_value_shown)
    context.update(item_title=offer.title, back_url=offer.get_absolute_url())
    return render(request, "history.html", context)


def _offer_page(request, offer: Offer, form: OrderPlaceForm, *, status: int = 200):
    # The same for every reader: kept for all under the page's versions.
    shown = Fragments(request, OFFER_PAGE_SCOPES).value(
        "offer-parts",
        offer.pk,
        lambda: {
            "seller_summary": reputation_summary(offer.seller),
            "reviews": list(selectors.offer_reviews(offer)[:20]),
            "royalty": purse_selectors.royalty_preview(offer),
        },
    )
    enable_mentions(form, "brief", _mentions_url(offer=offer.pk, order="new"))
    return render(
        request,
        "marketplace/offer_detail.html",
        {
            "offer": offer,
            **shown,
            "form": form,
            "is_seller": request.user.is_authenticated and request.user.pk == offer.seller_id,
            "can_edit": permissions.can_edit_offer(request.user, offer),
            "fee_rate": services.fee_rate(),
            "reservation_minutes": settings.PEERHUB_MARKETPLACE["reservation_minutes"],
        },
        status=status,
    )


@login_required
def offer_create(request):
    if not permissions.can_sell(request.user):
        messages.error(request, _("Selling services needs the “trusted” trust level."))
        return redirect("marketplace:offer-list")
    form = OfferForm(request.POST or None, seller=request.user)
    enable_mentions(form, "description", _mentions_url())
    if request.method == "POST" and form.is_valid():
        try:
            offer = services.offer_create(seller=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your offer is listed."))
            return redirect(offer)
    return render(request, "marketplace/offer_form.html", {"form": form, "offer": None})


@login_required
def offer_edit(request, pk: int):
    offer = selectors.offer_get(user=request.user, pk=pk)
    if not permissions.can_edit_offer(request.user, offer):
        raise Http404("No such offer.")
    form = OfferForm(request.POST or None, instance=offer, seller=offer.seller)
    enable_mentions(form, "description", _mentions_url(offer=offer.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.offer_update(offer=offer, by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Offer saved."))
            return redirect(offer)
    return render(request, "marketplace/offer_form.html", {"form": form, "offer": offer})


@login_required
@require_POST
def order_place(request, pk: int):
    """A missing brief is shown on the offer page's form; other refusals (sold out, your own
    offer) as a message on the offer page."""
    offer = selectors.offer_get(user=request.user, pk=pk)
    form = OrderPlaceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            order = services.order_place(
                buyer=request.user,
                offer=offer,
                brief=form.cleaned_data["brief"],
                uploads=form.cleaned_data["files"],
            )
        except DomainError as error:
            if error.code.startswith(("file_", "image_", "svg_", "too_")):
                form.add_error("files", error.message)
            elif error.code != "no_brief":
                return refuse(request, error, offer)
            else:
                form.add_error("brief", error.message)
        else:
            messages.success(request, _("Order placed: pay to start it."))
            return redirect(order)
    return _offer_page(request, offer, form, status=400)


@login_required
def order_list(request):
    user = request.user
    role = request.GET.get("role", "")
    role = role if role in ("buyer", "seller") else ""
    number = request.GET.get("page")
    # The member's own: kept for them under their orders' scope, which every write to what
    # the page shows bumps (marketplace.pagecache.orders_scope); read live with the cache off.
    kept = Fragments(request, [orders_scope(user.pk)])

    def rows():
        orders = selectors.order_rows(selectors.orders_of(user, role=role))
        return detached(CountedPaginator(orders, 25).get_page(number))

    def money():
        balances = selectors.balance_of(user)
        return balances, list(user.payouts.all()[:10]), services.current_subscription(user)

    page = kept.value("order-rows", (user.pk, role, (number or "")[:12]), rows)
    balances, payouts, subscription = kept.value("order-money", user.pk, money)
    return render(
        request,
        "marketplace/order_list.html",
        {
            "page": page,
            "role": role,
            "querystring": urlencode({"role": role}) if role else "",
            "balances": balances,
            "payouts": payouts,
            "payout_form": PayoutForm(user=user, balances=balances),
            "subscription": subscription,
            "site_currency": default_currency(),  # the balance before any money came in
        },
    )


@login_required
def order_detail(request, pk: int):
    return _order_page(request, selectors.order_get(user=request.user, pk=pk))


def _order_page(request, order: Order, *, review_form=None, status: int = 200):
    user = request.user
    is_buyer, is_seller = user.pk == order.buyer_id, user.pk == order.seller_id
    state = Order.State
    review = getattr(order, "review", None) if order.state == state.COMPLETED else None
    late_cancel_at = services.late_cancel_opens_at(order)
    # The order's parties only: no one else may be named and told (selectors).
    mentions_url = _mentions_url(order=order.pk)
    thread = list(selectors.order_messages(order))
    start_missed = bool(late_cancel_at and late_cancel_at <= timezone.now())
    return render(
        request,
        "marketplace/order_detail.html",
        {
            "order": order,
            "wash_note": wash.NOTE if order.wash_suspected else "",
            "money": selectors.order_money_summary(order),
            "late_cancel_at": late_cancel_at,
            "now": timezone.now(),
            "start_missed": start_missed,
            "late_cancel_open": is_buyer and start_missed,
            "timeline": selectors.order_timeline(order),
            # The brief's files show with the brief, not as a message of the thread.
            "thread": [message for message in thread if not message.is_brief],
            "brief_files": next((message for message in thread if message.is_brief), None),
            "is_buyer": is_buyer,
            "is_seller": is_seller,
            "is_staff": permissions.is_staff(user),
            "pending_payment": order.payments.filter(status="pending").first(),
            "message_form": enable_mentions(MessageForm(), "body", mentions_url),
            "deliver_form": enable_mentions(DeliverForm(), "message", mentions_url)
            if is_seller and order.state == state.IN_PROGRESS
            else None,
            "dispute_form": enable_mentions(DisputeForm(), "reason", mentions_url)
            if is_buyer and order.state in (state.IN_PROGRESS, state.DELIVERED)
            else None,
            "resolve_form": ResolveForm(currency=order.currency)
            if permissions.is_staff(user) and order.state == state.DISPUTED
            else None,
            "review": review,
            "review_form": (review_form or ReviewForm())
            if is_buyer and order.state == state.COMPLETED and review is None
            else None,
            "money_flow": selectors.order_money_flow(order) if permissions.is_staff(user) else None,
        },
        status=status,
    )


def _order_action(request, pk: int, action, done: str):
    order = selectors.order_get(user=request.user, pk=pk)
    return perform(request, lambda: action(order), done=done, then=order, back=order)


@login_required
@require_POST
def order_pay(request, pk: int):
    order = selectors.order_get(user=request.user, pk=pk)
    try:
        payment = services.order_pay(order=order, by=request.user)
    except DomainError as error:
        return refuse(request, error, order)
    return redirect(payment.checkout_url)


# The steps that cannot be taken back, asked first (peerhub.confirm): question, what follows,
# the button.
FINAL_STEPS = {
    "accept": (
        gettext_lazy("Accept the delivery of “{title}”?"),
        gettext_lazy(
            "The seller is paid at once and the order is completed: this cannot be undone."
        ),
        gettext_lazy("Accept the delivery"),
    ),
    "cancel": (
        gettext_lazy("Cancel “{title}”?"),
        gettext_lazy("The order ends for good; anything you paid comes back to you in full."),
        gettext_lazy("Cancel the order"),
    ),
    "decline": (
        gettext_lazy("Decline “{title}”?"),
        gettext_lazy("The buyer is refunded in full and the order ends for good."),
        gettext_lazy("Decline and refund"),
    ),
}


@login_required
@require_POST
def order_step(request, pk: int, step: str):
    """The one-click steps: start, accept, cancel (before payment, or late with a refund),
    decline."""
    steps = {
        "start": (services.order_start, _("Started: the buyer sees the order is in progress.")),
        "accept": (services.order_accept, _("Accepted: the seller is paid. Thank you!")),
        "cancel": (services.order_cancel, _("Order cancelled.")),
        "decline": (services.order_decline, _("Declined: the buyer is refunded in full.")),
    }
    if step not in steps:
        raise Http404("No such step.")
    service, done = steps[step]
    order = selectors.order_get(user=request.user, pk=pk)
    if step in FINAL_STEPS and not confirm.is_confirmed(request):
        question, consequence, button = FINAL_STEPS[step]
        return confirm.confirmation_page(
            request,
            question=question.format(title=order.title),
            consequence=str(consequence),
            button=str(button),
            back=order.get_absolute_url(),
        )
    if step == "cancel" and order.state == Order.State.PAID:
        done = _("Cancelled: the full price is on its way back to you.")
    return perform(
        request, lambda: service(order=order, by=request.user), done=done, then=order, back=order
    )


@login_required
@require_POST
def order_deliver(request, pk: int):
    form = DeliverForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Say what you deliver."))
        return redirect("marketplace:order-detail", pk=pk)
    data = form.cleaned_data
    return _order_action(
        request,
        pk,
        lambda o: services.order_deliver(
            order=o,
            by=request.user,
            message=data["message"],
            links=data["links"],
            uploads=data["files"],
        ),
        _("Delivered: the buyer can now accept."),
    )


@login_required
@require_POST
def order_dispute(request, pk: int):
    form = DisputeForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _order_action(
        request,
        pk,
        lambda o: services.order_dispute(order=o, by=request.user, reason=reason),
        _("Disputed: staff will look at the order."),
    )


@login_required
@require_POST
def order_resolve(request, pk: int):
    order = selectors.order_get(user=request.user, pk=pk)
    form = ResolveForm(request.POST, currency=order.currency)  # the share is in its currency
    if not form.is_valid():
        messages.error(request, _form_problem(form, _("Choose how to resolve the dispute.")))
        return redirect("marketplace:order-detail", pk=pk)
    data = form.cleaned_data
    if not confirm.is_confirmed(request):
        return confirm.confirmation_page(
            request,
            question=_("Resolve the dispute on “{title}”: {resolution}?").format(
                title=order.title,
                resolution=str(Order.Resolution(data["resolution"]).label).lower(),
            ),
            consequence=_(
                "The money moves at once and the order is closed: this cannot be undone."
            ),
            button=_("Resolve"),
            back=order.get_absolute_url(),
        )
    return _order_action(
        request,
        pk,
        lambda o: services.order_resolve(
            order=o,
            by=request.user,
            resolution=data["resolution"],
            buyer_amount=data["buyer_amount"],
            note=data["note"],
        ),
        _("Dispute resolved."),
    )


@login_required
@require_POST
def order_message(request, pk: int):
    form = MessageForm(request.POST, request.FILES)
    valid = form.is_valid()
    body = form.cleaned_data["body"] if valid else ""
    uploads = form.cleaned_data["files"] if valid else []
    return _order_action(
        request,
        pk,
        lambda o: services.order_message_post(order=o, by=request.user, body=body, uploads=uploads),
        _("Message sent."),
    )


@login_required
@require_GET
def order_file(request, pk: int, message: int, path: str):
    """A file of an order's message or delivery: the buyer, the seller and staff only (an
    order anyone else asks for does not exist for them: 404)."""
    order = selectors.order_get(user=request.user, pk=pk)
    entry = (
        OrderMessageFile.objects.select_related("blob")
        .filter(message__order=order, message_id=message, path=path)
        .first()
    )
    if entry is None:
        raise Http404("No such file.")
    return artefacts.serve_blob(
        request, entry.blob, entry.path, public=False, download=bool(request.GET.get("download"))
    )


@login_required
@require_POST
def order_review(request, pk: int):
    form = ReviewForm(request.POST)
    if not form.is_valid():
        order = selectors.order_get(user=request.user, pk=pk)
        return _order_page(request, order, review_form=form, status=400)
    data = form.cleaned_data
    return _order_action(
        request,
        pk,
        lambda o: services.order_review_save(
            order=o, by=request.user, rating=data["rating"], text=data["text"]
        ),
        _("Thank you for your review."),
    )


# --- Sandbox checkout ------------------------------------------------------------------------


@login_required
def sandbox_checkout(request, reference: str):
    """The sandbox provider's checkout page: succeed, be declined, or stay pending."""
    try:
        payment = services.sandbox_payment_for(reference=reference, user=request.user)
    except DomainError as error:
        raise Http404(error.message) from error
    back = payment.order or reverse("marketplace:subscription")
    if payment.contribution_id:
        back = reverse(
            "marketplace:purse", kwargs={"slug": payment.contribution.purse.challenge.slug}
        )
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        try:
            result = services.sandbox_answer(payment=payment, by=request.user, outcome=outcome)
        except DomainError as error:
            return refuse(request, error, request.path)
        if result == "pending":
            messages.info(request, _("The payment is pending: come back to confirm it later."))
            return redirect(request.path)
        payment.refresh_from_db()
        if payment.status == "succeeded":
            messages.success(request, _("Payment received."))
        elif payment.status == "failed":
            messages.error(request, _("The card was declined: nothing was charged."))
        return redirect(back)
    return render(request, "marketplace/sandbox_checkout.html", {"payment": payment, "back": back})


# --- Plans and subscriptions -----------------------------------------------------------------


def subscription(request):
    return render(
        request,
        "marketplace/subscription.html",
        {
            "plans": plans_ensure(),
            "subscription": services.current_subscription(request.user)
            if request.user.is_authenticated
            else None,
            "form": SubscribeForm(),
            "exportable": request.user.organised_challenges.order_by("title")
            if request.user.is_authenticated and request.user.has_perm(exports.EXPORT_PERMISSION)
            else [],
        },
    )


@login_required
@require_POST
def subscription_start(request):
    form = SubscribeForm(request.POST)
    interval = form.cleaned_data["interval"] if form.is_valid() else ""
    try:
        payment = services.subscription_start(user=request.user, interval=interval)
    except DomainError as error:
        return refuse(request, error, "marketplace:subscription")
    return redirect(payment.checkout_url)


@login_required
@require_POST
def subscription_change(request, action: str):
    actions = {
        "cancel": (services.subscription_cancel, _("Premium ends at the end of the paid period.")),
        "resume": (services.subscription_resume, _("Premium renews again.")),
    }
    if action == "pay":
        try:
            payment = services.subscription_pay_renewal(user=request.user)
        except DomainError as error:
            return refuse(request, error, "marketplace:subscription")
        return redirect(payment.checkout_url)
    if action not in actions:
        raise Http404("No such action.")
    service, done = actions[action]
    return perform(
        request,
        lambda: service(user=request.user),
        done=done,
        then="marketplace:subscription",
        back="marketplace:subscription",
    )


# --- Payouts and staff -----------------------------------------------------------------------


@login_required
@require_POST
def payout_request(request):
    form = PayoutForm(request.POST, user=request.user)
    if not form.is_valid():  # never "everything available" because the amount was unreadable
        messages.error(request, _form_problem(form, _("Give an amount, or leave it empty.")))
        return redirect("marketplace:order-list")
    amount, currency = form.cleaned_data["amount"], form.cleaned_data["currency"]
    if not confirm.is_confirmed(request):
        return confirm.confirmation_page(
            request,
            question=_("Send your balance as a payout now?"),
            consequence=_(
                "The money leaves PeerHub for your account: a payout cannot be called back."
            ),
            button=_("Send the payout"),
            back=reverse("marketplace:order-list"),
        )
    return perform(
        request,
        lambda: services.payout_request(seller=request.user, amount=amount, currency=currency),
        done=_("Payout sent."),
        then="marketplace:order-list",
        back="marketplace:order-list",
    )


@staff_member_required
def staff_money(request):
    disputed = selectors.orders_visible_to(request.user).filter(state=Order.State.DISPUTED)
    return render(
        request,
        "marketplace/staff_money.html",
        {
            "money": selectors.platform_money(),
            "disputed": disputed,
            "problems": ledger.audit(),
            "flight": selectors.money_in_flight(),
            "purses": purse_selectors.purses_money(),
        },
    )


@staff_member_required
def staff_wash(request):
    """Every suspected wash trade, newest first, with its circle (marketplace.wash)."""
    page = Paginator(selectors.wash_suspected_orders(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "marketplace/staff_wash.html",
        {
            "page": page,
            "rows": selectors.wash_rows(page.object_list),
            "note": _(wash.NOTE),
            "decisions": selectors.wash_decisions_recent(),
        },
    )


@require_POST
def staff_wash_decide(request, pk: int, verb: str):
    """Staff clear (or flag again) one order's wash-trading flag, with a reason."""
    if not permissions.is_staff(request.user):
        raise PermissionDenied
    action = {"clear": wash.wash_clear, "flag": wash.wash_flag}.get(verb)
    if action is None:
        raise Http404("No such decision.")
    order = get_object_or_404(Order, pk=pk)
    if verb == "clear":
        done = _("Order #{number} cleared: it counts again.").format(number=order.pk)
    else:
        done = _("Order #{number} flagged as a wash trade.").format(number=order.pk)
    return perform(
        request,
        lambda: action(order=order, by=request.user, reason=request.POST.get("reason", "")),
        done=done,
        then="marketplace:staff-wash",
        back="marketplace:staff-wash",
    )


@staff_member_required
@require_POST
def staff_event_dismiss(request, pk: int):
    event = get_object_or_404(ProviderEvent, pk=pk)
    if not confirm.is_confirmed(request):
        return confirm.confirmation_page(
            request,
            question=_("Mark provider event {event} as reviewed?").format(event=event.event_id),
            consequence=_(
                "It will no longer fail the ledger audit or show among the events for staff."
            ),
            button=_("Mark reviewed"),
            back=reverse("marketplace:staff-money"),
        )
    return perform(
        request,
        lambda: services.provider_event_dismiss(
            event=event, by=request.user, note=request.POST.get("note", "")[:120]
        ),
        done=_("Event marked as reviewed."),
        then="marketplace:staff-money",
        back="marketplace:staff-money",
    )


@staff_member_required
@require_POST
def staff_transfer_retry(request, kind: str, pk: int):
    model = {"refund": Refund, "payout": Payout}.get(kind)
    if model is None:
        raise Http404("No such transfer.")
    transfer = get_object_or_404(model, pk=pk)
    if not confirm.is_confirmed(request):
        return confirm.confirmation_page(
            request,
            question=_("Send this refund again?")
            if kind == "refund"
            else _("Send this payout again?"),
            consequence=_("It is queued to the provider at once, with the same idempotency key."),
            button=_("Send the refund again") if kind == "refund" else _("Send the payout again"),
            back=reverse("marketplace:staff-money"),
        )
    return perform(
        request,
        lambda: services.transfer_retry(transfer=transfer, by=request.user),
        done=_("The refund is queued to be sent again.")
        if kind == "refund"
        else _("The payout is queued to be sent again."),
        then="marketplace:staff-money",
        back="marketplace:staff-money",
    )


def _export_zip(request, challenge):
    """The export with its files, in a spooled temporary file (memory first, disk past 8 MB)."""
    archive = SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (FileResponse closes)
    try:
        exports.write_export_zip(archive, user=request.user, challenge=challenge)
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    response = FileResponse(
        archive,
        as_attachment=True,
        filename=f"{challenge.slug}-open-data.zip",
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def challenge_export(request, slug: str, fmt: str):
    """A Premium organiser downloads a challenge's solutions, scores and reviews."""
    challenge = challenges_visible_to(request.user).filter(slug=slug).first()
    if challenge is None or fmt not in ("csv", "json", "zip"):
        raise Http404("No such challenge.")
    try:
        if fmt == "zip":
            return _export_zip(request, challenge)
        export = exports.challenge_export(user=request.user, challenge=challenge)
    except DomainError as error:
        return refuse(request, error, "marketplace:subscription")
    if fmt == "json":
        response = JsonResponse(export, json_dumps_params={"indent": 2})
    else:
        response = HttpResponse(exports.as_csv(export), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{challenge.slug}-solutions.{fmt}"'
    return response
