from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from . import views

admin.site.site_header = "HRP back office"
admin.site.site_title = "HRP back office"
admin.site.index_title = "Racing data and models"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
