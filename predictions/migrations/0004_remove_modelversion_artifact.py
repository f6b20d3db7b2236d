import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('predictions', '0003_artifacts_into_database'),
    ]

    operations = [
        # The column stays for one release, with a default in the database: instances of the
        # previous release read and write it while a deploy replaces them. The next release
        # drops it (RunSQL "ALTER TABLE predictions_modelversion DROP COLUMN artifact").
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name='modelversion',
                    name='artifact',
                    field=models.CharField(blank=True, db_default='', max_length=100),
                ),
            ],
            state_operations=[
                migrations.RemoveField(
                    model_name='modelversion',
                    name='artifact',
                ),
            ],
        ),
        migrations.AlterField(
            model_name='modelartifact',
            name='version',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='artifact', serialize=False, to='predictions.modelversion'),
        ),
    ]
