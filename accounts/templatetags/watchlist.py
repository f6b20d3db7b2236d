"""The follow toggle, for any page that lists horses, jockeys or trainers.

The pages belong to other apps (races, predictions), which know nothing of watchlists; they load
this library in their templates, and what the member follows is read here, once per request.
"""

import re
from dataclasses import dataclass
from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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


# A slot in HTML built once for every member (a cached race card). Its name is escaped, and so is
# everything a template prints, so no data can forge a slot: only follow_slot writes "<!--".
_SLOT = re.compile(r"<!--follow:(horse|jockey|trainer):(\d+):([^>]*)-->")
# Stand-ins for the pk and the name in a button rendered once per state and request, then copied
# into each slot: rendering the template once per runner cost a third of a cached card.
_ANY_PK = 987_654_321_987
_ANY_NAME = "\x00name\x00"


@dataclass(frozen=True)
class _Followable:
    """What the follow button shows of a horse, jockey or trainer."""

    pk: int
    name: str

    def __str__(self) -> str:
        return self.name


@register.simple_tag
def follow_slot(obj: Any) -> SafeString:
    """`{% follow_slot horse %}`: where `follow_slots_fill` puts the member's follow button, in
    HTML that is the same for every member and so may be cached."""
    return mark_safe(f"<!--follow:{obj._meta.model_name}:{obj.pk}:{escape(str(obj))}-->")


@register.simple_tag(takes_context=True)
def follow_slots_fill(context: template.Context, shared: str) -> SafeString:
    """`{% follow_slots_fill html %}`: the shared HTML with each slot replaced by this member's
    follow button (one query for what they follow, as `follow_button`)."""
    request = context["request"]
    followed = _followed(request)
    button = context.template.engine.get_template("accounts/_follow_button.html")
    rendered: dict[tuple[str, bool], str] = {}

    def state(kind: str, following: bool) -> str:
        if (kind, following) not in rendered:
            values = {
                "request": request,
                "csrf_token": context.get("csrf_token"),
                "kind": kind,
                "obj": _Followable(pk=_ANY_PK, name=_ANY_NAME),
                "following": following,
            }
            with context.push(values):
                rendered[kind, following] = button.render(context)
        return rendered[kind, following]

    def fill(slot: re.Match) -> str:
        kind, pk, escaped_name = slot[1], int(slot[2]), slot[3]
        return (
            state(kind, pk in followed[kind])
            .replace(str(_ANY_PK), str(pk))
            .replace(_ANY_NAME, escaped_name)
        )

    return mark_safe(_SLOT.sub(fill, shared))
