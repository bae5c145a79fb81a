"""Offer tallies (completed orders, count and sum of review ratings) kept on the offer row, so
the marketplace listing needs no GROUP BY; backfilled here from the orders and reviews in one
set-based UPDATE (marketplace/services/tallies.py keeps them from now on). An index for the
listing's orders (newest, best rated, price, delivery), each read a page at a time,
and a narrow one for its count."""

from django.db import migrations, models
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Cast, Coalesce, Greatest


def backfill(apps, schema_editor):
    Offer = apps.get_model("marketplace", "Offer")
    Order = apps.get_model("marketplace", "Order")
    OrderReview = apps.get_model("marketplace", "OrderReview")

    def recount(rows, aggregate):
        n = rows.annotate(n=aggregate).values("n")[:1]
        return Coalesce(Subquery(n, output_field=IntegerField()), Value(0))

    orders = Order.objects.filter(offer=OuterRef("pk"), state="completed")
    reviews = OrderReview.objects.filter(order__offer=OuterRef("pk"))
    orders = orders.order_by().values("offer")
    reviews = reviews.order_by().values("order__offer")
    Offer.objects.update(
        completed_orders=recount(orders, Count("pk")),
        rating_count=recount(reviews, Count("pk")),
        rating_sum=recount(reviews, Sum("rating")),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0005_text_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="offer",
            name="completed_orders",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="offer",
            name="rating_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="offer",
            name="rating_sum",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(
                models.OrderBy(models.F("created_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="marketplace_offer_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(
                models.OrderBy(
                    CombinedExpression(
                        Cast("rating_sum", models.FloatField()),
                        "/",
                        Greatest("rating_count", models.Value(1)),
                    ),
                    descending=True,
                ),
                models.OrderBy(models.F("completed_orders"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="marketplace_offer_best_rated",
            ),
        ),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(fields=["price", "id"], name="marketplace_offer_price"),
        ),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(fields=["delivery_days", "id"], name="marketplace_offer_delivery"),
        ),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(
                fields=["is_active", "base_solution", "seller"], name="marketplace_offer_listed"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
