"""The client's address, taken in one place for the log-in lock-out (django-axes) and the API
throttles alike.

With DJANGO_API_NUM_PROXIES=N > 0 (REST_FRAMEWORK["NUM_PROXIES"]) it is the X-Forwarded-For entry
N from the right: what the N proxies in front appended, not what the client wrote before them.
With 0 (nothing in front: `make run`, a container reached directly) the header is the client's
own writing and is ignored. What is taken must be an IP address, or REMOTE_ADDR is used: axes
stores it in an inet column, and a header of junk must neither fail the log-in nor open a fresh
bucket for each request.
"""

import ipaddress

from django.http import HttpRequest
from rest_framework.settings import api_settings


def _ip_address(value: str | None) -> str | None:
    """`value` written the one way Python writes that address, or None if it is not one."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # PostgreSQL's inet refuses an IPv6 zone ("fe80::1%eth0"), and a zone says nothing of who.
    if getattr(address, "scope_id", None):
        return None
    return str(address)


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address (None only when REMOTE_ADDR is not one either)."""
    remote_addr = _ip_address(request.META.get("REMOTE_ADDR"))
    num_proxies = api_settings.NUM_PROXIES or 0
    forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies <= 0 or not forwarded_for:
        return remote_addr
    entries = forwarded_for.split(",")
    return _ip_address(entries[-min(num_proxies, len(entries))]) or remote_addr
