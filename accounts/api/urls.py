from django.urls import path

from . import views

urlpatterns = [
    path("tokens/", views.TokenListCreateApi.as_view(), name="token-create"),
    path("tokens/revoke/", views.TokenRevokeApi.as_view(), name="token-revoke"),
    path("tokens/revoke-all/", views.TokenRevokeAllApi.as_view(), name="token-revoke-all"),
]
