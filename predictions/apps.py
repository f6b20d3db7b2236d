from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PredictionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "predictions"

    def ready(self) -> None:
        # Django's documented place to connect receivers: the modules they need import models,
        # which are loaded only once the app registry is ready.
        from races.signals import race_cards_changed

        from .models import ModelVersion, Prediction
        from .receivers import race_cards_changed_refresh
        from .services.cache import model_version_changed, prediction_changed

        race_cards_changed.connect(race_cards_changed_refresh, dispatch_uid="predictions-refresh")
        # Cached cards and race API bodies (predictions.services.cache).
        for signal in (post_save, post_delete):
            signal.connect(prediction_changed, sender=Prediction, dispatch_uid="cache-prediction")
            signal.connect(model_version_changed, sender=ModelVersion, dispatch_uid="cache-version")
