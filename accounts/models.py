from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who signs in: a member reads race cards, staff also curate data in the admin.

    Custom from the first migration so that membership fields can be added later without
    swapping the user model.
    """

    email = models.EmailField("email address", blank=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def is_member(self) -> bool:
        return self.is_active and not self.is_staff
