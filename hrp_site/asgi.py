"""
ASGI config for hrp_site project.

It exposes the ASGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/asgi/
"""

import os

from django.core.asgi import get_asgi_application

from hrp_site.checks import require_production_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")

require_production_settings()
application = get_asgi_application()
