from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class RacesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "races"

    def ready(self) -> None:
        # Django's documented place to connect receivers: the models are loaded only now.
        from .models import Horse, Jockey, Race, Racecourse, Runner, Trainer
        from .services.cache import race_data_changed

        for model in (Racecourse, Horse, Jockey, Trainer, Race, Runner):
            for signal in (post_save, post_delete):
                signal.connect(
                    race_data_changed, sender=model, dispatch_uid=f"races-cache-{model.__name__}"
                )
