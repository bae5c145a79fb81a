from django.conf import settings


def site(request):
    return {"SITE_NAME": "PeerHub", "DEBUG": settings.DEBUG}
