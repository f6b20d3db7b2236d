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
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, UpdateView

from .forms import LoginForm, ProfileForm, SignupForm
from .models import User
from .selectors import watchlist_entries
from .services import WatchlistTargetError, watchlist_follow, watchlist_target, watchlist_unfollow


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
