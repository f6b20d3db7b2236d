"""What the accounts app does when others act: connected in AccountsConfig.ready()."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .services import expired_tokens_delete


@receiver(user_logged_in, dispatch_uid="accounts.expired_tokens_on_log_in")
def expired_tokens_on_log_in(sender, user, **kwargs) -> None:
    # Sent by the site's log-in and by the API's token creation (knox's LoginView).
    expired_tokens_delete(user=user)
