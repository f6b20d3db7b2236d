from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "predictions"

    def ready(self) -> None:
        # Django's documented place to connect receivers: the modules they need import models,
        # which are loaded only once the app registry is ready.
        from races.signals import race_cards_changed

        from .receivers import race_cards_changed_refresh

        race_cards_changed.connect(race_cards_changed_refresh, dispatch_uid="predictions-refresh")
