"""Existing rows in the new model of money: payouts paid at once are done, every provider event
so far was applied when received, and paid orders get their start deadline."""

from datetime import timedelta

from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):
    Payout = apps.get_model("marketplace", "Payout")
    ProviderEvent = apps.get_model("marketplace", "ProviderEvent")
    Order = apps.get_model("marketplace", "Order")
    Payout.objects.filter(status="paid").update(state="done", done_at=F("created_at"))
    Payout.objects.filter(status="failed").update(state="failed")
    ProviderEvent.objects.update(state="applied", applied_at=F("received_at"))
    for order in Order.objects.filter(paid_at__isnull=False).select_related("offer"):
        order.start_by = order.paid_at + timedelta(days=order.offer.delivery_days)
        order.save(update_fields=["start_by"])


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0003_money_durability")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="payout", name="status"),
    ]
