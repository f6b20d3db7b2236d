from django.db import transaction
from django.db.models import Prefetch
from django.utils.timezone import localdate
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from hrp_site.api import ErrorSerializer, IsMemberReadStaffWrite, StrictSerializer
from hrp_site.queueing import QueueingError
from races.models import Horse, Jockey, Operation, Race, Racecourse, Runner, Trainer
from races.providers.registry import PROVIDER_NAMES, ProviderNotConfigured
from races.selectors import FORM_RUNS, providers_status
from races.services.operations import operation_create
from races.services.provider_sync import provider_sync_enqueue

from . import filters
from .serializers import (
    HorseSerializer,
    JockeySerializer,
    OperationSerializer,
    RacecourseSerializer,
    RaceSerializer,
    ResultSerializer,
    RunnerSerializer,
    TrainerSerializer,
)


class RacecourseViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Racecourse.objects.all()
    serializer_class = RacecourseSerializer
    filterset_class = filters.RacecourseFilter
    ordering_fields = ["name", "code", "country"]


# Registered by predictions.api.urls as its subclass, whose detail adds predictions.
class RaceViewSet(viewsets.ModelViewSet):
    queryset = Race.objects.select_related("racecourse")
    serializer_class = RaceSerializer
    filterset_class = filters.RaceFilter
    permission_classes = [IsMemberReadStaffWrite]
    ordering_fields = ["meeting_date", "race_number", "distance_m", "post_time"]


@extend_schema_view(
    list=extend_schema(
        description="Races with a result, day by day (newest first) and by course and number, "
        "each with its runners in finishing order: by a range of days, a course and a region."
    )
)
class ResultViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = (
        Race.objects.results()
        .with_result()
        .with_field_size()
        .order_by("-meeting_date", "racecourse__name", "race_number")
    )
    serializer_class = ResultSerializer
    filterset_class = filters.ResultFilter
    permission_classes = [IsMemberReadStaffWrite]
    ordering_fields = ["meeting_date", "race_number", "post_time", "distance_m"]


class RunnerViewSet(viewsets.ModelViewSet):
    queryset = Runner.objects.select_related("horse", "jockey", "trainer")
    serializer_class = RunnerSerializer
    filterset_class = filters.RunnerFilter
    permission_classes = [IsMemberReadStaffWrite]
    ordering_fields = ["race", "saddle_number", "finish_position", "win_odds"]


class HorseViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Horse.objects.prefetch_related(
        Prefetch("runs", queryset=Runner.objects.form()[:FORM_RUNS], to_attr="recent_runs")
    )
    serializer_class = HorseSerializer
    filterset_class = filters.HorseFilter
    ordering_fields = ["name"]


class JockeyViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Jockey.objects.all()
    serializer_class = JockeySerializer
    filterset_class = filters.JockeyFilter
    ordering_fields = ["name"]


class TrainerViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Trainer.objects.all()
    serializer_class = TrainerSerializer
    filterset_class = filters.TrainerFilter
    ordering_fields = ["name"]


# --- operations: the background work staff asked for, to poll -----------------------------------


class OperationViewSet(viewsets.ReadOnlyModelViewSet):
    """The operations the API queued for the caller, newest first (every one for a superuser).
    Poll one until its status is done or failed."""

    queryset = Operation.objects.all()
    serializer_class = OperationSerializer
    permission_classes = [permissions.IsAdminUser]
    filterset_class = filters.OperationFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        operations = super().get_queryset()
        if self.request.user.is_superuser:
            return operations
        return operations.filter(requested_by_id=self.request.user.pk)


def operation_accepted(request, operation: Operation) -> Response:
    """The 202 of an operation: the queued operation, and where to poll it (also `Location`)."""
    body = OperationSerializer(operation, context={"request": request}).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["poll"]})


# --- providers: their selectors and services are imported on use, as they are optional ------


class ProviderSyncInputSerializer(StrictSerializer):
    day = serializers.DateField(required=False, help_text="The race day to sync; default today.")


class ProviderLastSyncSerializer(serializers.Serializer):
    day = serializers.DateField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    counts = serializers.DictField(required=False, help_text="Signed-in users only.")
    error = serializers.CharField(allow_blank=True, required=False, help_text="Signed-in only.")


class ProviderStatusSerializer(serializers.Serializer):
    provider = serializers.CharField()
    configured = serializers.BooleanField()
    last_sync = ProviderLastSyncSerializer(allow_null=True)


class ProvidersApi(APIView):
    """Each racing data provider: whether it is configured and how its last sync went.

    Public, for uptime checks; the counts and errors of a sync are for signed-in users only.
    """

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: ProviderStatusSerializer(many=True)})
    def get(self, request):
        rows = providers_status()
        if not request.user.is_authenticated:
            rows = [
                {
                    **row,
                    "last_sync": row["last_sync"]
                    and {k: v for k, v in row["last_sync"].items() if k not in ("counts", "error")},
                }
                for row in rows
            ]
        return Response(ProviderStatusSerializer(rows, many=True).data)


class ProviderNotConfiguredSerializer(serializers.Serializer):
    detail = serializers.CharField()
    provider = serializers.CharField()
    missing = serializers.ListField(
        child=serializers.CharField(), help_text="The settings this deployment lacks."
    )


class ProviderSyncApi(APIView):
    """Queue a sync of one provider's race cards and results for a day.

    A provider this deployment has not configured is refused (400) before anything is queued;
    a sync the broker cannot take is refused too (503), and recorded as failed."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        request=ProviderSyncInputSerializer,
        responses={
            202: OperationSerializer,
            400: ProviderNotConfiguredSerializer,
            503: ErrorSerializer,
        },
    )
    def post(self, request, name: str):
        if name not in PROVIDER_NAMES:
            known = ", ".join(PROVIDER_NAMES)
            return Response(
                {"detail": f"No provider {name!r}; known: {known}."},
                status=status.HTTP_404_NOT_FOUND,
            )
        data = ProviderSyncInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        day = data.validated_data.get("day", localdate())
        try:
            # The operation and the sync's row are written together, or neither is.
            with transaction.atomic():
                operation = operation_create(
                    kind=Operation.Kind.PROVIDER_SYNC,
                    requested_by=request.user,
                    parameters={"provider": name, "day": day.isoformat()},
                )
                provider_sync_enqueue(provider=name, day=day, operation_id=operation.pk)
        except ProviderNotConfigured as exc:
            body = {"detail": str(exc), "provider": exc.provider, "missing": exc.missing}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        except QueueingError as exc:
            return Response(
                {"detail": f"The sync of {name} {exc}."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return operation_accepted(request, operation)
