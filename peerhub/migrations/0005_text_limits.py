"""Text limits (peerhub/limits.py): the TextFields of peerhub get their maximum length, and a
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
    ("user", "bio", 2_000),
    ("value", "description", 2_000),
    ("manifestoversion", "preamble", 10_000),
    ("manifestoversion", "body", 100_000),
]


def truncate_over_long(apps, schema_editor):
    for model_name, field, limit in OVER_LONG:
        model = apps.get_model("peerhub", model_name)
        model.objects.annotate(length=Length(field)).filter(length__gt=limit).update(
            **{field: Substr(field, 1, limit)}
        )


class Migration(migrations.Migration):

    dependencies = [
        ('peerhub', '0004_access_tokens'),
    ]

    operations = [
        migrations.RunPython(truncate_over_long, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='manifestoversion',
            name='body',
            field=models.TextField(help_text='Markdown.', max_length=100000),
        ),
        migrations.AlterField(
            model_name='manifestoversion',
            name='preamble',
            field=models.TextField(help_text='Markdown: the heart of the manifesto, shown on home.', max_length=10000),
        ),
        migrations.AlterField(
            model_name='user',
            name='bio',
            field=models.TextField(blank=True, help_text='Markdown.', max_length=2000),
        ),
        migrations.AlterField(
            model_name='value',
            name='description',
            field=models.TextField(help_text='Markdown.', max_length=2000),
        ),
        migrations.AddConstraint(
            model_name='manifestoversion',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('preamble'), 10000), name='manifesto_preamble_max_length', violation_error_message='Keep it to 10,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='manifestoversion',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('body'), 100000), name='manifesto_body_max_length', violation_error_message='Keep it to 100,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('bio'), 2000), name='user_bio_max_length', violation_error_message='Keep it to 2,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='value',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('description'), 2000), name='value_description_max_length', violation_error_message='Keep it to 2,000 characters.'),
        ),
    ]
