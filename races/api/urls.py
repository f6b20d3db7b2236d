from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("racecourses", views.RacecourseViewSet, basename="racecourse")
router.register("runners", views.RunnerViewSet, basename="runner")
router.register("horses", views.HorseViewSet, basename="horse")
router.register("jockeys", views.JockeyViewSet, basename="jockey")
router.register("trainers", views.TrainerViewSet, basename="trainer")
router.register("operations", views.OperationViewSet, basename="operation")
router.register("results", views.ResultViewSet, basename="result")

urlpatterns = [
    path("providers/", views.ProvidersApi.as_view(), name="providers"),
    path("providers/<slug:name>/sync/", views.ProviderSyncApi.as_view(), name="provider-sync"),
    *router.urls,
]
