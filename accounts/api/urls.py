from django.urls import path

from . import views

urlpatterns = [
    path("tokens/", views.TokenCreateApi.as_view(), name="token-create"),
    path("tokens/revoke/", views.TokenRevokeApi.as_view(), name="token-revoke"),
]
