"""The ASGI application, for an ASGI server (the image serves WSGI: wsgi.py)."""

from django.core.asgi import get_asgi_application

from hrp_site.checks import serving_application

application = serving_application(get_asgi_application)
