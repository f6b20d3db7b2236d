import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('predictions', '0003_artifacts_into_database'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='modelversion',
            name='artifact',
        ),
        migrations.AlterField(
            model_name='modelartifact',
            name='version',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='artifact', serialize=False, to='predictions.modelversion'),
        ),
    ]
