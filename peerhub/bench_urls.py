"""The site's URLs plus one trivial view: the benchmark's yardstick for what Django and the
middleware cost by themselves (peerhub.bench)."""

from django.http import HttpResponse
from django.urls import path

from peerhub.urls import urlpatterns as site_urlpatterns


def bare(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("__bench__/bare/", bare, name="bench-bare"), *site_urlpatterns]
