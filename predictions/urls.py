from django.urls import path

from . import views

app_name = "predictions"

urlpatterns = [
    path("models/", views.PerformanceView.as_view(), name="performance"),
]
