from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from races.odds import OddsFormat


class User(AbstractUser):
    """A person who signs in: a member reads race cards, staff also curate data in the admin.

    Custom from the first migration so that membership fields can be added later without
    swapping the user model.
    """

    odds_format = models.CharField(
        "odds format",
        max_length=16,
        choices=OddsFormat.choices,
        default=OddsFormat.DECIMAL,
        help_text="How race cards show the market's odds and our fair odds.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class WatchlistEntry(models.Model):
    """One horse, jockey or trainer a member follows: exactly one of the three is set.

    The member's home page lists the next declared runs and latest results that involve any of
    them; race cards and profiles show a follow button for each.
    """

    KINDS = ("horse", "jockey", "trainer")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="watchlist")
    horse = models.ForeignKey(
        "races.Horse", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    jockey = models.ForeignKey(
        "races.Jockey", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    trainer = models.ForeignKey(
        "races.Trainer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # E-mail alerts, opted into per followed horse on the profile page.
    alert_declared = models.BooleanField(
        "e-mail when declared", default=False, help_text="E-mail when the horse is declared to run."
    )
    alert_result = models.BooleanField(
        "e-mail the result", default=False, help_text="E-mail when the horse's result is in."
    )
    alerts_since = models.DateField(
        null=True,
        blank=True,
        help_text="The day alerts were last turned on: no result from before it is e-mailed.",
    )

    class Meta:
        verbose_name_plural = "watchlist entries"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(horse__isnull=False, jockey__isnull=True, trainer__isnull=True)
                    | Q(horse__isnull=True, jockey__isnull=False, trainer__isnull=True)
                    | Q(horse__isnull=True, jockey__isnull=True, trainer__isnull=False)
                ),
                name="watchlist_entry_exactly_one_target",
            ),
            models.CheckConstraint(
                condition=Q(horse__isnull=False) | Q(alert_declared=False, alert_result=False),
                name="watchlist_entry_alerts_for_horses_only",
            ),
            models.UniqueConstraint(
                fields=["user", "horse"],
                condition=Q(horse__isnull=False),
                name="watchlist_entry_unique_horse",
            ),
            models.UniqueConstraint(
                fields=["user", "jockey"],
                condition=Q(jockey__isnull=False),
                name="watchlist_entry_unique_jockey",
            ),
            models.UniqueConstraint(
                fields=["user", "trainer"],
                condition=Q(trainer__isnull=False),
                name="watchlist_entry_unique_trainer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} follows {self.kind} {self.target}"

    @property
    def kind(self) -> str:
        return next(kind for kind in self.KINDS if getattr(self, f"{kind}_id") is not None)

    @property
    def target(self):
        return getattr(self, self.kind)


class SentAlert(models.Model):
    """An alert e-mail sent: one per followed horse's entry, runner and event, so that a
    re-run of the alert task sends nothing twice."""

    class Event(models.TextChoices):
        DECLARED = "declared", "Declared to run"
        RESULT = "result", "Result"

    entry = models.ForeignKey(WatchlistEntry, on_delete=models.CASCADE, related_name="sent_alerts")
    runner = models.ForeignKey("races.Runner", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=16, choices=Event.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "runner", "event"], name="sent_alert_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} alert for {self.entry} ({self.sent_at:%Y-%m-%d %H:%M})"
