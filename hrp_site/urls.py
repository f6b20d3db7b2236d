from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from races.api.views import ProvidersApi

from . import views
from .api_docs import RedocView, SwaggerView

admin.site.site_header = "HRP back office"
admin.site.site_title = "HRP back office"
admin.site.index_title = "Racing data and models"

handler400 = "hrp_site.errors.bad_request"
handler403 = "hrp_site.errors.permission_denied"
handler404 = "hrp_site.errors.not_found"
handler500 = "hrp_site.errors.server_error"

api_v1 = [
    path("", include("races.api.urls")),
    path("", include("predictions.api.urls")),
    path("", include("accounts.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("health/live/", views.health_live, name="health-live"),
    path("health/ready/", views.health_ready, name="health-ready"),
    path("healthz/", views.health_ready, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("", include("races.urls")),
    path("", include("predictions.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # The providers' status before the API was versioned; kept for existing consumers.
    path("api/providers", ProvidersApi.as_view(), name="providers-legacy"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
]
