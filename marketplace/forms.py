from decimal import Decimal

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from challenges.forms import MultipleFileField
from challenges.models import Solution
from peerhub import inputs, limits
from peerhub.widgets import MarkdownEditor

from . import ledger
from .models import Offer, Order, Subscription, default_currency
from .money import AmountError, from_minor, input_step, to_minor


class MoneyField(forms.DecimalField):
    """An amount typed in major units (12.50 EUR, 1000 JPY, 1.250 KWD), cleaned to integer
    minor units of `currency` by money.to_minor: the site's currency unless the form sets
    another (the offer form: the one the seller chose; the purse's, the order's, the payout
    account's). No more decimals than the currency has, never rounded."""

    def __init__(self, *, currency: str | None = None, **kwargs):
        kwargs.setdefault("max_digits", 12)
        super().__init__(**kwargs)
        self.set_currency(currency)

    def set_currency(self, currency: str | None) -> None:
        """Read amounts in `currency`; the input's step follows its decimals."""
        self.currency = currency
        if currency != FORM_CURRENCY:
            self.widget.attrs["step"] = input_step(self.currency_code())

    def currency_code(self) -> str:
        return self.currency if self.currency not in (None, FORM_CURRENCY) else default_currency()

    def prepare_value(self, value):
        if isinstance(value, int):
            return from_minor(value, self.currency_code())
        return value

    def to_minor(self, value: Decimal | None, currency: str) -> int | None:
        if value is None:
            return None
        try:
            minor = to_minor(value, currency)
        except AmountError as error:
            raise forms.ValidationError(error.message, code=error.code) from error
        if minor < 1:
            raise forms.ValidationError(_("Enter an amount above zero."), code="min_value")
        return minor

    def clean(self, value):
        amount = super().clean(value)
        if self.currency == FORM_CURRENCY:
            return amount  # the form converts it in its clean(), knowing the currency
        return self.to_minor(amount, self.currency_code())


# MoneyField(currency=FORM_CURRENCY): the currency is another field of the same form.
FORM_CURRENCY = "form"


class OfferForm(forms.ModelForm):
    price = MoneyField(
        label=gettext_lazy("Price"),
        help_text=gettext_lazy("What the buyer pays, fee included."),
        currency=FORM_CURRENCY,
    )

    class Meta:
        model = Offer
        fields = ["title", "description", "base_solution", "price", "currency", "delivery_days",
                  "capacity", "is_active"]  # fmt: skip
        field_classes = {"title": inputs.PlainCharField}
        labels = {
            "title": gettext_lazy("Title"),
            "description": gettext_lazy("Description"),
            "base_solution": gettext_lazy("Base solution"),
            "currency": gettext_lazy("Currency"),
            "delivery_days": gettext_lazy("Delivery (days)"),
            "capacity": gettext_lazy("Capacity"),
            "is_active": gettext_lazy("Active (take new orders)"),
        }
        widgets = {"description": MarkdownEditor(attrs={"rows": 8})}

    def __init__(self, *args, seller, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base_solution"].queryset = Solution.objects.filter(
            author=seller, status=Solution.Status.PUBLISHED
        ).order_by("title")
        self.fields["base_solution"].required = False
        if self.instance.price:  # the stored price shown in its own currency's units
            self.initial["price"] = from_minor(self.instance.price, self.instance.currency)

    def clean(self):
        """The price is read in the currency chosen on the same form (JPY has no decimals)."""
        data = super().clean()
        if data.get("price") is not None:
            currency = (data.get("currency") or default_currency()).upper()
            try:
                data["price"] = self.fields["price"].to_minor(data["price"], currency)
            except forms.ValidationError as error:
                self.add_error("price", error)
        return data


ORDER_FILES_HELP = gettext_lazy(
    "Documents, data, images or a ZIP: only the buyer, the seller and staff see them."
)


class OrderPlaceForm(forms.Form):
    # The rule is the service's (order_place refuses an empty brief); the form says it first.
    brief = forms.CharField(
        label=gettext_lazy("What do you need?"), widget=MarkdownEditor(attrs={"rows": 4}),
        max_length=limits.ORDER_BRIEF,
        help_text=gettext_lazy("Required: what you need, for whom and by when. The seller "
                               "reads it before starting. Markdown."),
        error_messages={
            "required": gettext_lazy("Tell the seller what you need: the brief is required.")
        },
    )  # fmt: skip
    files = MultipleFileField(
        label=gettext_lazy("Files for the brief"), required=False, help_text=ORDER_FILES_HELP
    )


class MessageForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Message"),
        widget=MarkdownEditor(attrs={"rows": 3}),
        max_length=limits.ORDER_MESSAGE,
    )
    files = MultipleFileField(
        label=gettext_lazy("Files"), required=False, help_text=ORDER_FILES_HELP
    )


class DeliverForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Delivery"),
        widget=MarkdownEditor(attrs={"rows": 5}),
        max_length=limits.ORDER_MESSAGE,
    )
    links = forms.CharField(
        label=gettext_lazy("Links"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One per line (https://…)."),
    )  # fmt: skip
    files = MultipleFileField(
        label=gettext_lazy("Files"), required=False, help_text=ORDER_FILES_HELP
    )

    def clean_links(self):
        links = [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]
        if any(len(link) > limits.DELIVERY_LINK for link in links):
            raise forms.ValidationError(
                _("Keep each link to {limit} characters.").format(
                    limit=number_format(limits.DELIVERY_LINK, force_grouping=True)
                ),
                code="max_length",
            )
        return links


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("What went wrong?"),
        widget=MarkdownEditor(attrs={"rows": 3}),
        max_length=limits.DISPUTE_REASON,
    )


class ResolveForm(forms.Form):
    """Staff's resolution of a dispute; the buyer's share is read in the order's currency."""

    resolution = forms.ChoiceField(
        label=gettext_lazy("Resolution"), choices=Order.Resolution.choices
    )
    buyer_amount = MoneyField(label=gettext_lazy("Buyer's share (split only)"), required=False)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=300)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["buyer_amount"].set_currency(currency)
        self.fields["buyer_amount"].label = _("Buyer's share in {currency} (split only)").format(
            currency=currency
        )


class ReviewForm(forms.Form):
    # No initial value: a review says what the buyer chose, never a default of five stars.
    rating = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],  # worded in the reader's language below
        coerce=int,
        label=gettext_lazy("Your rating"),
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose a rating from 1 to 5 stars.")},
    )
    text = forms.CharField(
        label=gettext_lazy("Your review"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=limits.ORDER_REVIEW,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rating"].choices = [
            (n, ngettext("{n} star", "{n} stars", n).format(n=n)) for n in range(1, 6)
        ]


class SubscribeForm(forms.Form):
    interval = forms.ChoiceField(
        label=gettext_lazy("Interval"), choices=Subscription.Interval.choices
    )


class PayoutForm(forms.Form):
    """A payout from one of the member's payable accounts (one per currency): the amount is
    read in that account's currency, the site's when the member has none yet."""

    currency = forms.ChoiceField(label=gettext_lazy("Currency"), required=False)  # empty: site's
    amount = MoneyField(
        label=gettext_lazy("Amount"), required=False,
        help_text=gettext_lazy("Empty: everything available."), currency=FORM_CURRENCY,
    )  # fmt: skip

    def __init__(self, *args, user, balances=None, **kwargs):
        """`balances`: the member's balances per currency when the caller has read them."""
        super().__init__(*args, **kwargs)
        if balances is None:
            balances = ledger.balances_of(user)
        currencies = sorted(set(balances) | {default_currency()})
        field = self.fields["currency"]
        field.choices = [(code, code) for code in currencies]
        field.initial = default_currency()
        if len(currencies) == 1:
            field.widget = forms.HiddenInput()
        self.fields["amount"].widget.attrs["step"] = (
            input_step(currencies[0]) if len(currencies) == 1 else "any"
        )

    def clean(self):
        data = super().clean()
        data["currency"] = data.get("currency") or default_currency()
        if data.get("amount") is not None:
            try:
                data["amount"] = self.fields["amount"].to_minor(data["amount"], data["currency"])
            except forms.ValidationError as error:
                self.add_error("amount", error)
        return data


class PurseRulesForm(forms.Form):
    """The organiser's award table and lineage share (services.purses.purse_configure)."""

    mode = forms.ChoiceField(
        choices=[
            ("places", gettext_lazy("A percentage per place")),
            ("equal", gettext_lazy("Equal shares among the winners")),
        ],
        label=gettext_lazy("How the purse is split"),
        widget=forms.RadioSelect,
        initial="places",
    )
    places = forms.CharField(
        required=False,
        max_length=60,
        initial="60, 30, 10",
        label=gettext_lazy("Percentage per place"),
        help_text=gettext_lazy("First place first, adding up to 100: for example 60, 30, 10."),
    )
    lineage_share = forms.IntegerField(
        min_value=0,
        max_value=50,
        label=gettext_lazy("Lineage share (%)"),
        help_text=gettext_lazy(
            "The part of each award that goes to the authors the winner built on."
        ),
    )
    rollover_to = forms.ModelChoiceField(
        queryset=None,
        required=False,
        to_field_name="slug",
        label=gettext_lazy("If no winner is published"),
        empty_label=gettext_lazy("Refund every backer"),
        help_text=gettext_lazy(
            "Or roll the whole purse over to a follow-up challenge you organise, one "
            "that has not published its results."
        ),
    )

    def __init__(self, *args, rollover_choices, **kwargs):
        """`rollover_choices`: the challenges the purse may roll over to
        (purse_selectors.rollover_candidates)."""
        super().__init__(*args, **kwargs)
        self.fields["rollover_to"].queryset = rollover_choices
        self.fields["rollover_to"].label_from_instance = lambda challenge: _(
            "Roll over to {title}"
        ).format(title=challenge.title)

    def clean_places(self) -> list[str]:
        text = self.cleaned_data["places"]
        return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class ContributeForm(forms.Form):
    """A contribution to a purse, read in the purse's currency."""

    amount = MoneyField(
        label=gettext_lazy("Amount"),
        help_text=gettext_lazy("What you pay, the platform fee included."),
    )
    public_name = inputs.PlainCharField(
        max_length=60,
        required=False,
        label=gettext_lazy("Name shown among the backers"),
        help_text=gettext_lazy("Leave empty to back anonymously."),
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].set_currency(currency)
        self.fields["amount"].label = _("Amount in {currency}").format(currency=currency)
