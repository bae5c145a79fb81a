"""Every model of the project is in the admin, and its list and detail pages load."""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

PROJECT_APPS = {"peerhub", "challenges", "reputation", "marketplace"}
MODELS = [model for model in apps.get_models() if model._meta.app_label in PROJECT_APPS]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_model_is_registered(model):
    assert admin.site.is_registered(model), f"{model._meta.label} is not in the admin"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model", [m for m in MODELS if admin.site.is_registered(m)], ids=lambda m: m._meta.label
)
def test_changelist_and_search_load(client, staff_user, model):
    client.force_login(staff_user)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "x"}).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_the_admin_spells_every_plural(model):
    """Django only adds an "s": it wrote "Criterions" and "Selection entrys" (issue 18)."""
    plural = str(model._meta.verbose_name_plural)
    assert not re.search(r"[^aeiou]ys$", plural), plural
    assert not plural.endswith("criterions"), plural


def test_the_plurals_named_in_the_issue():
    from challenges.models import Criterion, SelectionEntry

    assert Criterion._meta.verbose_name_plural == "criteria"
    assert SelectionEntry._meta.verbose_name_plural == "selection entries"
