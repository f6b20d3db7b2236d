"""Versions trained before the fix stored their seed twice: in `seed` and in `hyperparameters`.
Retraining them passed it twice. The column is the one place for it."""

from django.db import migrations


def hyperparameters_without_seed(apps, schema_editor):
    ModelVersion = apps.get_model("predictions", "ModelVersion")
    for version in ModelVersion.objects.filter(hyperparameters__has_key="seed").only(
        "pk", "hyperparameters"
    ):
        del version.hyperparameters["seed"]
        version.save(update_fields=["hyperparameters"])


class Migration(migrations.Migration):

    dependencies = [
        ('predictions', '0004_remove_modelversion_artifact'),
    ]

    operations = [
        migrations.RunPython(hyperparameters_without_seed, migrations.RunPython.noop),
    ]
