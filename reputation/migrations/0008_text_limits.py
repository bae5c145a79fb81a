"""Text limits (peerhub/limits.py): the TextFields of reputation get their maximum length, and a
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
    ("review", "comment", 10_000),
]


def truncate_over_long(apps, schema_editor):
    for model_name, field, limit in OVER_LONG:
        model = apps.get_model("reputation", model_name)
        model.objects.annotate(length=Length(field)).filter(length__gt=limit).update(
            **{field: Substr(field, 1, limit)}
        )


class Migration(migrations.Migration):

    dependencies = [
        ('reputation', '0007_event_not_from_votes'),
    ]

    operations = [
        migrations.RunPython(truncate_over_long, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='review',
            name='comment',
            field=models.TextField(help_text='Markdown: what works, what would make it better.', max_length=10000),
        ),
        migrations.AddConstraint(
            model_name='review',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('comment'), 10000), name='review_comment_max_length', violation_error_message='Keep it to 10,000 characters.'),
        ),
    ]
