import datetime

import factory

from predictions.models import ModelVersion, Prediction
from races.tests.factories import RunnerFactory


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
