"""Offers, order briefs and order messages keep their Markdown rendered at write time (mentions
linked), like comments; the rows already there are rendered here with today's renderer. An
order's words link no mentions on the way: who may be linked depends on the order, and they
showed plain before."""

from django.db import migrations, models


def render_existing(apps, schema_editor):
    from challenges.rendering import rerender_markdown

    rerender_markdown(apps.get_model("marketplace", "Offer"), source="description")
    order = apps.get_model("marketplace", "Order")
    rerender_markdown(order, source="brief", link_mentions=False)
    message = apps.get_model("marketplace", "OrderMessage")
    rerender_markdown(message, link_mentions=False)


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0010_purse_rollover_to_follow_up"),
    ]

    operations = [
        migrations.AddField(
            model_name="offer",
            name="description_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="order",
            name="brief_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="ordermessage",
            name="body_html",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(render_existing, migrations.RunPython.noop, elidable=True),
    ]
