"""Text limits (peerhub/limits.py): the TextFields of challenges get their maximum length, and a
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
    ("challenge", "problem", 20_000),
    ("challenge", "context", 20_000),
    ("challengeproposal", "problem", 20_000),
    ("challengeproposal", "context", 20_000),
    ("challengeproposal", "decline_reason", 2_000),
    ("revision", "body", 100_000),
    ("upstreamproposal", "message", 10_000),
    ("upstreamproposal", "decline_reason", 2_000),
    ("comment", "body", 10_000),
    ("selectionround", "summary", 10_000),
    ("selectionentry", "reason", 4_000),
    ("selectionentry", "winner_reason", 4_000),
]


def truncate_over_long(apps, schema_editor):
    for model_name, field, limit in OVER_LONG:
        model = apps.get_model("challenges", model_name)
        model.objects.annotate(length=Length(field)).filter(length__gt=limit).update(
            **{field: Substr(field, 1, limit)}
        )


class Migration(migrations.Migration):

    dependencies = [
        ('challenges', '0004_unchanged_fork'),
    ]

    operations = [
        migrations.RunPython(truncate_over_long, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='challenge',
            name='context',
            field=models.TextField(blank=True, help_text='Markdown: why it matters — the story, who is affected.', max_length=20000),
        ),
        migrations.AlterField(
            model_name='challenge',
            name='problem',
            field=models.TextField(blank=True, help_text='Markdown: the problem to solve.', max_length=20000),
        ),
        migrations.AlterField(
            model_name='challengeproposal',
            name='context',
            field=models.TextField(blank=True, help_text='Markdown: why it matters.', max_length=20000),
        ),
        migrations.AlterField(
            model_name='challengeproposal',
            name='decline_reason',
            field=models.TextField(blank=True, max_length=2000),
        ),
        migrations.AlterField(
            model_name='challengeproposal',
            name='problem',
            field=models.TextField(help_text='Markdown.', max_length=20000),
        ),
        migrations.AlterField(
            model_name='comment',
            name='body',
            field=models.TextField(max_length=10000),
        ),
        migrations.AlterField(
            model_name='revision',
            name='body',
            field=models.TextField(help_text='Markdown.', max_length=100000),
        ),
        migrations.AlterField(
            model_name='selectionentry',
            name='reason',
            field=models.TextField(help_text='Why the organisers shortlisted it.', max_length=4000),
        ),
        migrations.AlterField(
            model_name='selectionentry',
            name='winner_reason',
            field=models.TextField(blank=True, help_text='Why it was selected as a winner.', max_length=4000),
        ),
        migrations.AlterField(
            model_name='selectionround',
            name='summary',
            field=models.TextField(blank=True, help_text='Markdown: what the organisers looked for.', max_length=10000),
        ),
        migrations.AlterField(
            model_name='upstreamproposal',
            name='decline_reason',
            field=models.TextField(blank=True, max_length=2000),
        ),
        migrations.AlterField(
            model_name='upstreamproposal',
            name='message',
            field=models.TextField(help_text='What the change does and why the parent needs it.', max_length=10000),
        ),
        migrations.AddConstraint(
            model_name='challenge',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('problem'), 20000), name='challenge_problem_max_length', violation_error_message='Keep it to 20,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='challenge',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('context'), 20000), name='challenge_context_max_length', violation_error_message='Keep it to 20,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='challengeproposal',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('problem'), 20000), name='proposal_problem_max_length', violation_error_message='Keep it to 20,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='challengeproposal',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('context'), 20000), name='proposal_context_max_length', violation_error_message='Keep it to 20,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='challengeproposal',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('decline_reason'), 2000), name='proposal_decline_reason_max_length', violation_error_message='Keep it to 2,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='comment',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('body'), 10000), name='comment_body_max_length', violation_error_message='Keep it to 10,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='revision',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('body'), 100000), name='revision_body_max_length', violation_error_message='Keep it to 100,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='selectionentry',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('reason'), 4000), name='shortlist_reason_max_length', violation_error_message='Keep it to 4,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='selectionentry',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('winner_reason'), 4000), name='winner_reason_max_length', violation_error_message='Keep it to 4,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='selectionround',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('summary'), 10000), name='selection_round_summary_max_length', violation_error_message='Keep it to 10,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='upstreamproposal',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('message'), 10000), name='upstream_message_max_length', violation_error_message='Keep it to 10,000 characters.'),
        ),
        migrations.AddConstraint(
            model_name='upstreamproposal',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('decline_reason'), 2000), name='upstream_decline_reason_max_length', violation_error_message='Keep it to 2,000 characters.'),
        ),
    ]
