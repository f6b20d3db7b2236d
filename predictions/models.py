from django.db import models  # noqa: F401

# The model registry and stored predictions arrive with the prediction engine.
