"""Text limits (peerhub/limits.py): the TextFields of marketplace get their maximum length, and a
CheckConstraint each that the database enforces.

Stored values longer than their new limit are TRUNCATED to it first (set-based, in SQL), so that
the constraints hold for what is already stored. The limits are generous and no demo data comes
near them; on a database that holds longer values, only what lies beyond the limit is lost."""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models
from django.db.models.functions import Length, Substr


# (model, field, limit): the limits as they are when this migration is written.
OVER_LONG = [
    ("plan", "description", 2_000),
    ("offer", "description", 20_000),
    ("order", "brief", 10_000),
    ("ordermessage", "body", 20_000),
    ("orderreview", "text", 5_000),
]


def truncate_over_long(apps, schema_editor):
    for model_name, field, limit in OVER_LONG:
        model = apps.get_model("marketplace", model_name)
        model.objects.annotate(length=Length(field)).filter(length__gt=limit).update(
            **{field: Substr(field, 1, limit)}
        )


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0004_money_durability_data'),
    ]

    operations = [
        migrations.RunPython(truncate_over_long, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='offer',
            name='description',
            field=models.TextField(help_text='Markdown.', max_length=20000),
        ),
        migrations.AlterField(
            model_name='order',
            name='brief',
            field=models.TextField(blank=True, help_text='What the buyer needs (Markdown).', max_length=10000),
        ),
        migrations.AlterField(
            model_name='ordermessage',
            name='body',
            field=models.TextField(help_text='Markdown.', max_length=20000),
        ),
        migrations.AlterField(
            model_name='orderreview',
            name='text',
            field=models.TextField(blank=True, max_length=5000),
        ),
        migrations.AlterField(
            model_name='plan',
            name='description',
            field=models.TextField(blank=True, help_text='Markdown.', max_length=2000),
        ),
        migrations.AddConstraint(
            model_name='offer',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('description'), 20000), name='marketplace_offer_description_max_length', violation_error_message='Keep it to 20,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='order',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('brief'), 10000), name='marketplace_order_brief_max_length', violation_error_message='Keep it to 10,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='ordermessage',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('body'), 20000), name='marketplace_order_message_body_max_length', violation_error_message='Keep it to 20,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='orderreview',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('text'), 5000), name='marketplace_order_review_text_max_length', violation_error_message='Keep it to 5,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='plan',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('description'), 2000), name='marketplace_plan_description_max_length', violation_error_message='Keep it to 2,000 characters.'),
        ),
    ]
