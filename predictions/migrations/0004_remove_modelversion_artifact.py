from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('predictions', '0003_artifacts_into_database'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='modelversion',
            name='artifact',
        ),
    ]
