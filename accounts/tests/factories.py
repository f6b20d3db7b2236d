import factory

from accounts.models import User, WatchlistEntry
from races.tests.factories import HorseFactory

PASSWORD = "a-long-enough-passphrase"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)


class WatchlistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WatchlistEntry

    user = factory.SubFactory(UserFactory)
    horse = factory.SubFactory(HorseFactory)
