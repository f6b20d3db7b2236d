from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone
from knox.models import AuthToken

from races.models import Horse, Jockey, Trainer

from .models import User, WatchlistEntry

# (username, password, staff): published in the README and printed by seed_demo, so never use
# these accounts anywhere but a local demo.
DEMO_USERS = (
    ("demo-staff", "hrp-demo-staff", True),
    ("demo-member", "hrp-demo-member", False),
)


@transaction.atomic
def demo_users_ensure() -> list[tuple[str, str]]:
    """Create the demo staff and member accounts, or put them back to their known state.

    The password is reset only when it no longer matches, so that the printed logins always work
    and a re-run leaves an untouched account as it was. Returns (username, password) pairs.
    """
    user_model = get_user_model()
    logins = []
    for username, password, staff in DEMO_USERS:
        user, created = user_model.objects.get_or_create(username=username)
        wanted = {"is_staff": staff, "is_superuser": staff, "is_active": True}
        changed = [field for field, value in wanted.items() if getattr(user, field) != value]
        for field in changed:
            setattr(user, field, wanted[field])
        if created or not user.check_password(password):
            user.set_password(password)
            changed.append("password")
        if changed:
            user.save(update_fields=changed)
        logins.append((username, password))
    return logins


def expired_tokens_delete(*, user: User | None = None) -> int:
    """Delete the expired API tokens, of one user or of all; how many went. Knox swept a user's
    expired tokens on each of their requests; here a periodic task and each log-in do it."""
    expired = AuthToken.objects.filter(expiry__lt=timezone.now())
    if user is not None:
        expired = expired.filter(user=user)
    deleted, _ = expired.delete()
    return deleted


WATCHLIST_MODELS: dict[str, type[models.Model]] = {
    "horse": Horse,
    "jockey": Jockey,
    "trainer": Trainer,
}


class WatchlistTargetError(ValueError):
    """The kind is not one that can be followed, or no such horse, jockey or trainer exists."""


def watchlist_target(*, kind: str, pk: int) -> Horse | Jockey | Trainer:
    model = WATCHLIST_MODELS.get(kind)
    if model is None:
        raise WatchlistTargetError(
            f"Cannot follow a {kind!r}: choose one of {', '.join(WATCHLIST_MODELS)}."
        )
    try:
        return model.objects.get(pk=pk)
    except model.DoesNotExist:
        raise WatchlistTargetError(f"There is no {kind} with id {pk}.") from None


@transaction.atomic
def watchlist_follow(*, user: User, kind: str, pk: int) -> WatchlistEntry:
    """Follow a horse, jockey or trainer; following it again keeps the one entry."""
    target = watchlist_target(kind=kind, pk=pk)
    entry, _created = WatchlistEntry.objects.get_or_create(user=user, **{kind: target})
    return entry


@transaction.atomic
def watchlist_unfollow(*, user: User, kind: str, pk: int) -> bool:
    """Stop following; True when there was an entry to remove, False when it was not followed."""
    watchlist_target(kind=kind, pk=pk)
    deleted, _per_model = WatchlistEntry.objects.filter(user=user, **{f"{kind}_id": pk}).delete()
    return deleted > 0
