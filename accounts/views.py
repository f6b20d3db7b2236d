"""HTML views: sign-up, log-in and the rest of the account pages, the profile and the watchlist."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import CreateView, UpdateView

from .forms import LoginForm, ProfileForm, SignupForm
from .models import SentAlert, User, WatchlistEntry
from .selectors import watchlist_entries
from .services import (
    AlertTokenInvalid,
    WatchlistTargetError,
    alert_unsubscribe,
    alert_unsubscribe_read,
    watchlist_alerts_set,
    watchlist_follow,
    watchlist_target,
    watchlist_unfollow,
)


class FormPageMixin:
    """Labels without Django's trailing colon, as on every other form of the site."""

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "label_suffix": ""}


class AnonymousOnlyMixin:
    """Sends a user who is already logged in to the home page."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect(settings.LOGIN_REDIRECT_URL)
        return super().dispatch(request, *args, **kwargs)


class SignupView(AnonymousOnlyMixin, FormPageMixin, CreateView):
    form_class = SignupForm
    template_name = "accounts/signup.html"

    def form_valid(self, form: SignupForm) -> HttpResponse:
        user = form.save()
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(self.request, f"Welcome to HRP, {user.get_username()}.")
        return redirect(settings.LOGIN_REDIRECT_URL)


class LoginView(FormPageMixin, auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(FormPageMixin, auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordResetView(FormPageMixin, auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(FormPageMixin, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class ProfileView(LoginRequiredMixin, FormPageMixin, SuccessMessageMixin, UpdateView):
    form_class = ProfileForm
    template_name = "accounts/profile.html"
    success_url = reverse_lazy("accounts:profile")
    success_message = "Your profile is saved."

    def get_object(self, queryset=None) -> User:
        return self.request.user

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            watchlist=watchlist_entries(user=self.request.user), **kwargs
        )


@require_POST
@login_required
def follow(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Follow or unfollow a horse, jockey or trainer, then go back to the page the button was on."""
    action = request.POST.get("action")
    if action not in ("follow", "unfollow"):
        return HttpResponseBadRequest("The action must be follow or unfollow.")
    try:
        target = watchlist_target(kind=kind, pk=pk)
        if action == "follow":
            watchlist_follow(user=request.user, kind=kind, pk=pk)
            messages.success(request, f"You now follow {target}.")
        else:
            watchlist_unfollow(user=request.user, kind=kind, pk=pk)
            messages.success(request, f"You no longer follow {target}.")
    except WatchlistTargetError as error:
        raise Http404(str(error)) from error
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("home")
    return redirect(next_url)


@require_POST
@login_required
def watchlist_alerts(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Turn a followed horse's e-mail alerts on or off (the profile's checkboxes)."""
    try:
        entry = watchlist_alerts_set(
            user=request.user,
            entry_id=entry_id,
            declared=request.POST.get("declared") == "on",
            result=request.POST.get("result") == "on",
        )
    except WatchlistEntry.DoesNotExist:
        raise Http404("You follow no horse under this entry.") from None
    wanted = [
        words
        for on, words in ((entry.alert_declared, "declarations"), (entry.alert_result, "results"))
        if on
    ]
    if wanted:
        messages.success(request, f"You will be e-mailed {' and '.join(wanted)} of {entry.horse}.")
    else:
        messages.success(request, f"No more e-mails about {entry.horse}.")
    return redirect("accounts:profile")


# The link works without logging in and from a mail client's one-click unsubscribe (RFC 8058),
# which posts without a CSRF token: the signed token is the authority, not the session.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def alert_unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what the link would stop, with a button; POST: stop it."""
    try:
        entry_id, event = alert_unsubscribe_read(token)
    except AlertTokenInvalid as error:
        context = {"error": str(error)}
        return render(request, "accounts/alert_unsubscribe.html", context, status=400)
    if request.method == "POST":
        entry = alert_unsubscribe(entry_id=entry_id, event=event)
        done = True
    else:
        entry = WatchlistEntry.objects.select_related("horse").filter(pk=entry_id).first()
        done = False
    context = {"entry": entry, "event": SentAlert.Event(event), "done": done, "token": token}
    return render(request, "accounts/alert_unsubscribe.html", context)


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """django-axes' lock-out response: a page saying for how long, with status 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "accounts/locked_out.html",
        {"cooloff_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
