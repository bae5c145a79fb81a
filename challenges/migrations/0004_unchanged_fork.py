from django.db import migrations, models
from django.db.models import F


def mark_unchanged_forks(apps, schema_editor):
    Solution = apps.get_model("challenges", "Solution")
    forks = Solution.objects.filter(
        forked_from_revision__isnull=False, current_revision__isnull=False
    ).filter(current_revision__body=F("forked_from_revision__body"))
    Solution.objects.filter(pk__in=forks.values("pk")).update(unchanged_fork=True)


class Migration(migrations.Migration):
    dependencies = [("challenges", "0003_selection_rounds")]

    operations = [
        migrations.AddField(
            model_name="solution",
            name="unchanged_fork",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_unchanged_forks, migrations.RunPython.noop),
    ]
