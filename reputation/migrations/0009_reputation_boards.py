"""The leaderboards' read model (reputation.boards): ReputationDay, filled from the ledger as it
stands, in one INSERT ... SELECT (the SQL of `boards.rebuild` as it is when this migration is
written, so that later changes to the module do not change what this migration does).
ReputationStanding starts empty: until the beat task `roll_board_window` first fills it, the
30-day board reads the days (`boards.standings_current`)."""

import django.db.models.deletion
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    day = apps.get_model("reputation", "ReputationDay")._meta.db_table
    event = apps.get_model("reputation", "ReputationEvent")._meta.db_table
    solution = apps.get_model("challenges", "Solution")._meta.db_table
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        last_day = "CAST(timezone('UTC', MAX(e.fact_at)) AS DATE)"
    else:
        last_day = "date(MAX(e.fact_at))"
    gain = "k.capped AND k.net > 0"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {day} (member_id, day, challenge_id, gained, other)
            SELECT k.member_id, k.day, k.challenge_id,
                SUM(CASE WHEN {gain} THEN k.net ELSE 0 END),
                SUM(CASE WHEN {gain} THEN 0 ELSE k.net END)
            FROM (
                SELECT e.beneficiary_id AS member_id, e.capped, s.challenge_id,
                    SUM(e.amount) AS net, {last_day} AS day
                FROM {event} e LEFT JOIN {solution} s ON s.id = e.solution_id
                GROUP BY e.beneficiary_id, e.fact_key, e.capped, s.challenge_id
            ) k
            GROUP BY k.member_id, k.day, k.challenge_id
            """
        )


class Migration(migrations.Migration):

    dependencies = [
        ('challenges', '0005_text_limits'),
        ('reputation', '0008_text_limits'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ReputationDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('gained', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=12)),
                ('other', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=12)),
                ('challenge', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='challenges.challenge')),
                ('member', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['day', 'member', 'challenge', 'gained', 'other'], name='board_day_member'), models.Index(fields=['member', 'day'], name='board_member_day')],
            },
        ),
        migrations.CreateModel(
            name='ReputationStanding',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period', models.CharField(max_length=8)),
                ('since', models.DateField()),
                ('score', models.DecimalField(decimal_places=2, max_digits=12)),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['period', '-score'], name='standing_period_score'), models.Index(fields=['period', 'since'], name='standing_period_since')],
                'constraints': [models.UniqueConstraint(fields=('period', 'member'), name='one_standing_per_period')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
