import datetime
from decimal import Decimal

import factory

from races.models import ExternalRecord, Horse, Jockey, Race, Racecourse, Runner, Trainer


class RacecourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Racecourse

    code = factory.Sequence(lambda n: f"C{n}")
    name = factory.Sequence(lambda n: f"Racecourse {n}")
    country = "HK"


class ParticipantFactory(factory.django.DjangoModelFactory):
    """A horse, jockey or trainer as the Hong Kong data names it: by an id of its own."""

    class Meta:
        abstract = True

    source = ExternalRecord.Source.HKRACING
    external_id = factory.Sequence(lambda n: f"{1000 + n}")


class HorseFactory(ParticipantFactory):
    class Meta:
        model = Horse

    name = factory.Sequence(lambda n: f"Horse {n}")
    country = "AUS"
    sex = "gelding"


class JockeyFactory(ParticipantFactory):
    class Meta:
        model = Jockey

    name = factory.Sequence(lambda n: f"Jockey {n}")


class TrainerFactory(ParticipantFactory):
    class Meta:
        model = Trainer

    name = factory.Sequence(lambda n: f"Trainer {n}")


class RaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Race

    source = ExternalRecord.Source.HKRACING
    external_id = factory.Sequence(str)
    racecourse = factory.SubFactory(RacecourseFactory)
    # Ten races a day, so races sharing a racecourse never share a slot.
    meeting_date = factory.Sequence(
        lambda n: datetime.date(2024, 1, 1) + datetime.timedelta(n // 10)
    )
    race_number = factory.Sequence(lambda n: n % 10 + 1)
    name = factory.Sequence(lambda n: f"Handicap {n}")
    distance_m = 1200
    going = "good"
    race_class = "4"


class RunnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Runner

    race = factory.SubFactory(RaceFactory)
    horse = factory.SubFactory(HorseFactory)
    jockey = factory.SubFactory(JockeyFactory)
    trainer = factory.SubFactory(TrainerFactory)
    saddle_number = factory.Sequence(lambda n: n + 1)
    draw = factory.Sequence(lambda n: n % 14 + 1)
    carried_weight_lb = 126
    rating = 60
    age = 4
    win_odds = factory.Sequence(lambda n: Decimal("2.50") + n % 20)
    place_odds = Decimal("1.40")
