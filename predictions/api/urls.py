from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
# The races' URLs, registered here: a race's detail carries its predictions.
router.register("races", views.RaceViewSet, basename="race")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")
router.register("predictions", views.PredictionViewSet, basename="prediction")

urlpatterns = [
    path(
        "model-versions/<int:pk>/retrain/",
        views.ModelVersionRetrainApi.as_view(),
        name="model-version-retrain",
    ),
    path(
        "model-versions/<int:pk>/train/",
        views.ModelVersionTrainApi.as_view(),
        name="model-version-train",
    ),
    path("predictions/refresh/", views.PredictionsRefreshApi.as_view(), name="predictions-refresh"),
    path("racecards/", views.RacecardsApi.as_view(), name="racecards"),
    *router.urls,
]
