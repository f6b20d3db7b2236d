import datetime

import factory

from predictions.models import ModelVersion, Prediction
from races.tests.factories import RaceFactory, RunnerFactory


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    algorithm = ModelVersion.Algorithm.LOGIT
    train_until = datetime.date(2023, 12, 31)
    status = ModelVersion.Status.READY
    metrics = factory.LazyFunction(lambda: {"log_loss": 2.1})
    value_margin = 0.0


class PredictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prediction

    runner = factory.SubFactory(RunnerFactory)
    model_version = factory.SubFactory(ModelVersionFactory)
    win_probability = 0.25
    place_probability = 0.6
    rank = 1
    fair_odds = 4.0
    edge = 0.1


def predicted_race(day):
    """A race on `day` with three runners and a logit's predictions of them (trained the day
    before): the race, its runners and the version."""
    race = RaceFactory(meeting_date=day, race_number=1)
    runners = [RunnerFactory(race=race, saddle_number=n) for n in (1, 2, 3)]
    logit = ModelVersionFactory(algorithm="logit", train_until=day - datetime.timedelta(1))
    for rank, runner in enumerate(runners, start=1):
        PredictionFactory(runner=runner, model_version=logit, win_probability=0.5 / rank, rank=rank)
    return race, runners, logit
