import datetime

from django.urls import path, register_converter

from . import views

app_name = "races"


class IsoDateConverter:
    """A day as 2026-11-27."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> datetime.date:
        return datetime.date.fromisoformat(value)  # ValueError (e.g. 2026-02-30): no match

    def to_url(self, value: datetime.date) -> str:
        return value.isoformat()


register_converter(IsoDateConverter, "isodate")

urlpatterns = [
    path("racing/", views.RaceDayView.as_view(), name="today"),
    path("racing/<isodate:day>/", views.RaceDayView.as_view(), name="day"),
    path("racing/next/", views.NextToRunView.as_view(), name="next_to_run"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("horses/<int:pk>/", views.HorseDetailView.as_view(), name="horse"),
    path("jockeys/<int:pk>/", views.JockeyDetailView.as_view(), name="jockey"),
    path("trainers/<int:pk>/", views.TrainerDetailView.as_view(), name="trainer"),
]
