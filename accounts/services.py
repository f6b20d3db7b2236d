import contextlib
import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from hrp_site.queueing import QueueingError, task_send_on_commit
from races.models import Horse, Jockey, Trainer

from .models import SentAlert, User, WatchlistEntry
from .selectors import PendingAlert, alerts_pending

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


# --- horse alerts --------------------------------------------------------------------------------

logger = logging.getLogger(__name__)

ALERT_UNSUBSCRIBE_SALT = "accounts.alerts.unsubscribe"
# The opt-in each event's alerts need.
ALERT_FIELDS = {SentAlert.Event.DECLARED: "alert_declared", SentAlert.Event.RESULT: "alert_result"}


class AlertTokenInvalid(ValueError):
    """An unsubscribe link's token was altered, cut short or signed with another key."""


@transaction.atomic
def watchlist_alerts_set(
    *, user: User, entry_id: int, declared: bool, result: bool
) -> WatchlistEntry:
    """Turn a followed horse's e-mail alerts on or off. An alert turned on counts results from
    today on (`alerts_since`). `WatchlistEntry.DoesNotExist` when the member follows no horse
    under that entry."""
    entry = WatchlistEntry.objects.select_for_update().get(
        pk=entry_id, user=user, horse__isnull=False
    )
    turned_on = (declared and not entry.alert_declared) or (result and not entry.alert_result)
    if turned_on:
        entry.alerts_since = timezone.localdate()
    entry.alert_declared, entry.alert_result = declared, result
    entry.save(update_fields=["alert_declared", "alert_result", "alerts_since"])
    return entry


def alert_unsubscribe_token(*, entry_id: int, event: str) -> str:
    """The signed token of an alert e-mail's unsubscribe link: it names the follow and the
    event, so that the link works without logging in and for nothing else."""
    return signing.dumps({"entry": entry_id, "event": event}, salt=ALERT_UNSUBSCRIBE_SALT)


def alert_unsubscribe_read(token: str) -> tuple[int, str]:
    """The follow and the event a token names; `AlertTokenInvalid` when it was tampered with."""
    try:
        data = signing.loads(token, salt=ALERT_UNSUBSCRIBE_SALT)
    except signing.BadSignature as exc:
        raise AlertTokenInvalid("This unsubscribe link is not valid: it may be cut short.") from exc
    if not isinstance(data, dict):
        raise AlertTokenInvalid("This unsubscribe link is not valid.")
    entry_id, event = data.get("entry"), data.get("event")
    if not isinstance(entry_id, int) or event not in SentAlert.Event.values:
        raise AlertTokenInvalid("This unsubscribe link is not valid.")
    return entry_id, event


def alert_unsubscribe(*, entry_id: int, event: str) -> WatchlistEntry | None:
    """Turn off one event's alerts of one follow (an unsubscribe link); None when the follow no
    longer exists. Idempotent."""
    WatchlistEntry.objects.filter(pk=entry_id).update(**{ALERT_FIELDS[event]: False})
    return WatchlistEntry.objects.select_related("horse", "user").filter(pk=entry_id).first()


def horse_alerts_send(*, today: datetime.date | None = None) -> int:
    """E-mail the alerts due (`selectors.alerts_pending`), each once: the record of it is
    written in the same transaction as the e-mail is handed to the mail server, so a re-run (or
    a second worker) sends nothing twice and an e-mail that failed is tried again next time.
    Returns how many were sent."""
    sent = 0
    for alert in alerts_pending(today=today or timezone.localdate()):
        with transaction.atomic():
            # Under the follow's lock: an unsubscribe or unfollow since the read wins.
            wanted = WatchlistEntry.objects.select_for_update().filter(
                pk=alert.entry.pk, **{ALERT_FIELDS[alert.event]: True}
            )
            if not wanted.exists():
                continue
            _record, created = SentAlert.objects.get_or_create(
                entry=alert.entry, runner=alert.runner, event=alert.event
            )
            if not created:  # another run sent it meanwhile
                continue
            _alert_email(alert).send()
        sent += 1
    return sent


def _alert_email(alert: PendingAlert) -> EmailMessage:
    site = settings.HRP_SITE_URL
    unsubscribe = site + reverse(
        "accounts:alert_unsubscribe",
        args=[alert_unsubscribe_token(entry_id=alert.entry.pk, event=alert.event)],
    )
    context = {
        "alert": alert,
        "runner": alert.runner,
        "race": alert.runner.race,
        "declared": alert.event == SentAlert.Event.DECLARED,
        "race_url": site + alert.runner.race.get_absolute_url(),
        "horse_url": site + alert.runner.horse.get_absolute_url(),
        "profile_url": site + reverse("accounts:profile"),
        "unsubscribe_url": unsubscribe,
    }
    subject = render_to_string("accounts/alert_subject.txt", context).strip()
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=render_to_string("accounts/alert_email.txt", context),
        to=[alert.entry.user.email],
        headers={
            # One-click unsubscribe from the mail client (RFC 8058): a POST to the same link.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def horse_alerts_enqueue() -> None:
    """Send the alerts due in the background after the commit. A broker that does not take
    the task is logged, not raised: the sync or import that asked has succeeded, and the beat's
    sweep sends the alerts later."""
    # Celery's documented pattern: the tasks module imports this one, so the task is imported here.
    from .tasks import send_horse_alerts_task

    def lost(exc: QueueingError) -> None:
        logger.warning("Horse alerts not queued (the beat's sweep sends them later): %s", exc)

    with contextlib.suppress(QueueingError):  # logged by `lost`
        task_send_on_commit(send_horse_alerts_task, on_error=lost)
