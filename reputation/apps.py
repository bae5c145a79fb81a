from django.apps import AppConfig


class ReputationConfig(AppConfig):
    name = "reputation"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the fact listeners)
