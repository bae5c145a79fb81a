"""The marketplace's query parameters, validated by django-filter for the page and the API alike;
the rules themselves live in selectors.offer_list."""

from django_filters import rest_framework as filters

from peerhub.api.filters import FilterSet, IntegerFilter, NumberFilter

from . import selectors
from .models import Offer, Order


class OfferFilter(FilterSet):
    q = filters.CharFilter(help_text="Words in the title or the description.")
    challenge = filters.CharFilter(help_text="The slug of the base solution's challenge.")
    value = filters.CharFilter(help_text="The slug of a manifesto value the challenge serves.")
    currency = filters.CharFilter(
        max_length=3, help_text="Only offers in this currency (ISO code, e.g. EUR or JPY)."
    )
    # Whole minor units: "12.50" is a 400, never read as 12 (the page converts what people type
    # with money.to_minor first).
    min_price = IntegerFilter(min_value=0, help_text="Minor units (of `currency` when given).")
    max_price = IntegerFilter(min_value=0, help_text="Minor units (of `currency` when given).")
    max_delivery_days = NumberFilter(min_value=1)
    seller_level = NumberFilter(min_value=0, max_value=4, help_text="Minimum trust level.")
    ordering = filters.ChoiceFilter(
        choices=[(name, name) for name in selectors.OFFER_SORTS],
        help_text="newest (default), price, -price, delivery, rating.",
    )

    class Meta:
        model = Offer
        fields = ["q", "challenge", "value", "currency", "min_price", "max_price",
                  "max_delivery_days", "seller_level", "ordering"]  # fmt: skip

    def __init__(self, *args, viewer=None, **kwargs):
        """`viewer`: whose list it is (the request's member when not given)."""
        super().__init__(*args, **kwargs)
        self.viewer = viewer if viewer is not None else getattr(self.request, "user", None)

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data

        def number(name):
            return int(data[name]) if data.get(name) is not None else None

        return selectors.offer_list(
            user=self.viewer,
            q=(data.get("q") or "").strip(),
            challenge=data.get("challenge") or "",
            value=data.get("value") or "",
            currency=(data.get("currency") or "").strip(),
            min_price=number("min_price"),
            max_price=number("max_price"),
            max_delivery_days=number("max_delivery_days"),
            seller_level=number("seller_level"),
            sort=data.get("ordering") or "newest",
        )


class OrderFilter(FilterSet):
    state = filters.ChoiceFilter(choices=Order.State.choices)
    role = filters.ChoiceFilter(
        choices=[("buyer", "buyer"), ("seller", "seller")], method="filter_role",
        help_text="Only orders where you are the buyer, or the seller.",
    )  # fmt: skip

    class Meta:
        model = Order
        fields = ["state", "role"]

    def filter_role(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(buyer=user) if value == "buyer" else queryset.filter(seller=user)
