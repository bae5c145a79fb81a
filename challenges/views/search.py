from django.shortcuts import render
from django.utils.translation import gettext

from peerhub.models import Value
from peerhub.pagecache import Fragments

from .. import search as search_module
from ..models import Challenge


def search(request):
    """/search/?q=…&kind=challenge|solution|member&status=…&value=…"""
    q = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    kind = kind if kind in search_module.KINDS else ""
    status = request.GET.get("status", "")
    status = status if status in Challenge.Status.values else ""
    value = request.GET.get("value", "")
    results = (
        search_module.search(
            user=request.user,
            q=q,
            kind=kind,
            status=status,
            value=value,
            kept=Fragments(request, ["lists"]),
        )
        if q
        else {}
    )
    sections = [
        (name, label, results[name])
        for name, label in (
            ("challenge", gettext("Challenges")),
            ("solution", gettext("Solutions")),
            ("member", gettext("Members")),
        )
        if name in results
    ]
    return render(
        request,
        "challenges/search.html",
        {
            "q": q,
            "kind": kind,
            "status": status,
            "value": value,
            "sections": sections,
            "total": sum(len(hits) for hits in results.values()),
            "statuses": [s for s in Challenge.Status.choices if s[0] != Challenge.Status.DRAFT],
            "values": Value.objects.all(),
        },
    )
