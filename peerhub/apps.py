from django.apps import AppConfig


class PeerhubConfig(AppConfig):
    name = "peerhub"
    verbose_name = "PeerHub site"
