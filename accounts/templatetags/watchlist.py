"""The follow toggle, for any page that lists horses, jockeys or trainers.

The pages belong to other apps (races, predictions), which know nothing of watchlists; they load
this library in their templates, and what the member follows is read here, once per request.
"""

from typing import Any

from django import template
from django.http import HttpRequest

from accounts.selectors import followed_ids

register = template.Library()


def _followed(request: HttpRequest) -> dict[str, set[int]]:
    # One query per request however many buttons a page shows (a race card has one per runner).
    if not hasattr(request, "_watchlist_followed"):
        request._watchlist_followed = followed_ids(user=request.user)
    return request._watchlist_followed


@register.inclusion_tag("accounts/_follow_button.html", takes_context=True)
def follow_button(context: template.Context, obj: Any) -> dict[str, Any]:
    """`{% follow_button horse %}`: follow or unfollow a horse, jockey or trainer."""
    request = context["request"]
    kind = obj._meta.model_name
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "kind": kind,
        "obj": obj,
        "following": obj.pk in _followed(request)[kind],
    }
