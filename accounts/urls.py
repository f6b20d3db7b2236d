from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

# Django's own pages that only confirm a step, each on templates/accounts/<its name>.html.
DONE_PAGES = [
    ("password/change/done/", auth_views.PasswordChangeDoneView, "password_change_done"),
    ("password/reset/done/", auth_views.PasswordResetDoneView, "password_reset_done"),
    ("password/reset/complete/", auth_views.PasswordResetCompleteView, "password_reset_complete"),
]

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    *(
        path(route, view.as_view(template_name=f"accounts/{name}.html"), name=name)
        for route, view, name in DONE_PAGES
    ),
    path("watchlist/<str:kind>/<int:pk>/", views.follow, name="follow"),
    path("watchlist/<int:entry_id>/alerts/", views.watchlist_alerts, name="watchlist_alerts"),
    path(
        "alerts/unsubscribe/<str:token>/",
        views.alert_unsubscribe_view,
        name="alert_unsubscribe",
    ),
]
