from django.conf import settings
from django.db import migrations


def create_plans(apps, schema_editor):
    Plan = apps.get_model("marketplace", "Plan")
    config = settings.PEERHUB_MARKETPLACE
    for position, (code, plan) in enumerate(config["plans"].items()):
        Plan.objects.get_or_create(
            code=code,
            defaults={
                "name": plan["name"],
                "monthly_price": plan["monthly"],
                "yearly_price": plan["yearly"],
                "currency": config["currency"],
                "is_premium": code != "free",
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
