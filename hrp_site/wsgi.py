"""The WSGI application gunicorn serves (the Dockerfile's CMD)."""

from django.core.wsgi import get_wsgi_application

from hrp_site.checks import serving_application

application = serving_application(get_wsgi_application)
