from django.urls import path

from . import views

app_name = "predictions"

urlpatterns = [
    # Under races' /racing/ pages: the card is a race's page, composed here with its predictions.
    path("racing/race/<int:pk>/", views.RaceCardView.as_view(), name="race"),
    path("racing/results/", views.DayResultsView.as_view(), name="today_results"),
    path("racing/<isodate:day>/results/", views.DayResultsView.as_view(), name="day_results"),
    path("models/", views.PerformanceView.as_view(), name="performance"),
]
