from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # Django's documented place to connect receivers: the modules they need import models,
        # which are loaded only once the app registry is ready.
        from django.contrib.auth.signals import user_logged_in

        from races.signals import race_data_stored

        from .receivers import expired_tokens_on_log_in, race_data_stored_alert

        race_data_stored.connect(race_data_stored_alert, dispatch_uid="accounts-horse-alerts")
        user_logged_in.connect(expired_tokens_on_log_in, dispatch_uid="accounts-expired-tokens")
