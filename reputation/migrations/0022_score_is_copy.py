"""A score row keeps whether its solution is a copy of its source (Solution.unchanged_fork):
copies have no rank, and the review queue's partial index leaves them out."""

from django.db import migrations, models


def copy_from_solutions(apps, schema_editor):
    """Existing rows read the flag from their solutions (the next recompute also takes their
    rank away)."""
    SolutionScore = apps.get_model("reputation", "SolutionScore")
    SolutionScore.objects.filter(solution__unchanged_fork=True).update(is_copy=True)


class Migration(migrations.Migration):
    dependencies = [
        ("challenges", "0020_visitor_check_indexes"),
        ("reputation", "0021_member_trust_ring_backer"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="solutionscore", name="score_review_queue"),
        migrations.AddField(
            model_name="solutionscore",
            name="is_copy",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(copy_from_solutions, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="solutionscore",
            index=models.Index(
                condition=models.Q(("is_copy", False), ("published_at__isnull", False)),
                fields=["review_count", "-published_at", "solution"],
                name="score_review_queue",
            ),
        ),
    ]
