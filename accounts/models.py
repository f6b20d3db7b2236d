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
