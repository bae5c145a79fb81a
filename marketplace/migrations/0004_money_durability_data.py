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
    # What each stored event reported, and the amount it was applied for (their payment's).
    events = ProviderEvent.objects.select_related("payment")
    for event in events.filter(payment__isnull=False):
        succeeded = event.outcome.startswith(("paid", "refunded", "ignored: already succeeded"))
        event.reported = "succeeded" if succeeded else "failed"
        event.amount, event.currency = event.payment.amount, event.payment.currency
        event.payment_key = event.payment.idempotency_key
        event.provider_reference = event.payment.provider_reference
        event.save(
            update_fields=["reported", "amount", "currency", "payment_key", "provider_reference"]
        )
    # Refunds so far were sent at once: each refund in the ledger gets its (done) row.
    Refund = apps.get_model("marketplace", "Refund")
    LedgerEntry = apps.get_model("marketplace", "LedgerEntry")
    outgoing = LedgerEntry.objects.filter(
        account__kind="clearing", amount__gt=0, transaction__payment__isnull=False
    ).exclude(transaction__kind="payout")
    for entry in outgoing.select_related("transaction__payment"):
        txn = entry.transaction
        Refund.objects.get_or_create(
            idempotency_key=txn.key,
            defaults={
                "provider": txn.payment.provider,
                "payment": txn.payment,
                "order_id": txn.order_id,
                "amount": entry.amount,
                "currency": txn.payment.currency,
                "state": "done",
                "done_at": txn.created_at,
            },
        )
    for order in Order.objects.filter(paid_at__isnull=False).select_related("offer"):
        order.start_by = order.paid_at + timedelta(days=order.offer.delivery_days)
        order.save(update_fields=["start_by"])


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0003_money_durability")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="payout", name="status"),
    ]
