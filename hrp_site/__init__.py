from . import checks  # noqa: F401  (registers the deploy checks)
from .celery import app as celery_app

__all__ = ("celery_app",)
