import datetime
from urllib.parse import quote

from django.db import transaction
from django.utils.timezone import localdate
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from hrp_site.api import ErrorSerializer, IsMemberReadStaffWrite
from hrp_site.filters import ID_SCHEMA, KnownParametersFilter
from hrp_site.queueing import QueueingError
from hrp_site.shared_cache import cached
from predictions.models import ModelVersion, Prediction
from predictions.selectors import card_predictions_attach, racecards
from predictions.services.base import PredictionError
from predictions.services.cache import race_card_generations, racecards_generations
from predictions.services.enqueue import (
    model_version_requeue,
    model_version_retrain,
    predictions_enqueue_refresh,
)
from predictions.services.versions import model_version_activate, model_version_annotate
from races.api import views as races_views
from races.api.serializers import OperationSerializer
from races.models import Operation, Race
from races.services.operations import operation_create

from . import filters
from .serializers import (
    MODEL_VERSION_NOTES_REQUEST,
    PREDICTIONS_REFRESH_REQUEST,
    ModelVersionNotesSerializer,
    ModelVersionRetrainInputSerializer,
    ModelVersionSerializer,
    PredictionSerializer,
    PredictionsRefreshInputSerializer,
    RacecardsSerializer,
    RaceDetailSerializer,
)


# The races API, served from here because a race's detail carries its predictions (no docstring:
# drf-spectacular would print it on every operation).
@extend_schema_view(
    retrieve=extend_schema(
        description="The race with its runners. Each runner carries the predictions of the model "
        "versions the race's day shows: per algorithm, the active version if it was trained "
        "before that day, else the latest version that was (walk-forward), so a past race never "
        "shows a model that saw its result."
    )
)
class RaceViewSet(races_views.RaceViewSet):
    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.with_card() if self.action == "retrieve" else queryset

    def get_object(self):
        race = super().get_object()
        if self.action == "retrieve":
            card_predictions_attach(race=race)
        return race

    def get_serializer_class(self):
        return RaceDetailSerializer if self.action == "retrieve" else super().get_serializer_class()

    def retrieve(self, request, *args, **kwargs):
        # Every member gets the same body: serialised once per change (hrp_site.shared_cache).
        pk = kwargs[self.lookup_field]
        if not (pk.isascii() and pk.isdigit()):
            return super().retrieve(request, *args, **kwargs)
        data = cached(
            f"race-api:{pk}",
            generations=race_card_generations(race_id=int(pk)),
            build=lambda: self.get_serializer(self.get_object()).data,
        )
        return Response(data)


@extend_schema_view(
    update=extend_schema(
        request={"application/json": {**MODEL_VERSION_NOTES_REQUEST, "required": ["notes"]}},
        responses={200: ModelVersionSerializer},
        description="Set the version's notes: the one field staff may change. Any other field "
        "sent is refused (400, by name); what a version is comes from its creation and training.",
    ),
    partial_update=extend_schema(
        request={"application/json": MODEL_VERSION_NOTES_REQUEST},
        responses={200: ModelVersionSerializer},
        description="As PUT: only notes may be sent.",
    ),
)
class ModelVersionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = ModelVersion.objects.all()
    serializer_class = ModelVersionSerializer
    permission_classes = [IsMemberReadStaffWrite]
    filterset_class = filters.ModelVersionFilter
    ordering_fields = ["created_at", "train_until", "algorithm"]

    def update(self, request, *args, **kwargs):
        version = self.get_object()
        data = ModelVersionNotesSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        if "notes" in data.validated_data:
            version = model_version_annotate(version=version, notes=data.validated_data["notes"])
        return Response(ModelVersionSerializer(version).data)

    @extend_schema(
        request=None,
        responses={200: ModelVersionSerializer, 409: ErrorSerializer},
        description="Make the version the one race cards show for its algorithm. A version that "
        "is not ready is refused (409).",
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAdminUser])
    def activate(self, request, pk=None):
        version = self.get_object()
        try:
            version = model_version_activate(version=version)
        except PredictionError as exc:
            reason = str(exc)
            detail = f"{reason[:1].upper()}{reason[1:]}: only a ready version can be activated."
            return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)
        return Response(ModelVersionSerializer(version).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "race_ids",
                {"type": "array", "minItems": 1, "items": ID_SCHEMA},
                explode=False,
                description="Comma-separated race ids, e.g. 3,4,5.",
            )
        ]
    )
)
class PredictionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Prediction.objects.select_related(
        "runner__race", "runner__horse", "model_version"
    ).order_by("runner__race", "model_version", "rank")
    serializer_class = PredictionSerializer
    filterset_class = filters.PredictionFilter
    ordering_fields = ["rank", "win_probability", "edge", "updated_at"]


class RacecardsApi(GenericAPIView):
    # The filters validate and select the races; the body is built by `racecards`.
    queryset = Race.objects.all()
    serializer_class = RacecardsSerializer
    filterset_class = filters.RacecardFilter
    filter_backends = [KnownParametersFilter, DjangoFilterBackend]
    pagination_class = None

    @extend_schema(
        filters=True,
        responses={
            200: RacecardsSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid parameters, by name."),
        },
        description="A day's racecards in one call: every race of the day (or of one course or "
        "region), ordered by course and race number, with its place terms and its runners: "
        "each with what the race card shows of it (sex, headgear, the jockey's claim, form, days "
        "since its last run, C/D marks) and the predictions of the model versions the race's day "
        "shows (as a race's detail gives them). Takes the same few queries however many races; "
        "every member gets the same body, built once per change.",
    )
    def get(self, request):
        races = self.filter_queryset(self.get_queryset())  # a 400 for a parameter it cannot use
        day = (
            datetime.date.fromisoformat(request.query_params["date"])
            if "date" in request.query_params
            else localdate()
        )
        races = races.filter(meeting_date=day).order_by("racecourse__name", "race_number", "pk")
        race_ids = list(races.values_list("pk", flat=True))
        key = "racecards:" + ":".join(
            [
                day.isoformat(),
                *(
                    quote(request.query_params.get(name, "").lower())
                    for name in ("course", "region")
                ),
            ]
        )
        data = cached(
            key,
            generations=racecards_generations(race_ids=race_ids),
            build=lambda: self._body(day=day, race_ids=race_ids),
        )
        return Response(data)

    def _body(self, *, day: datetime.date, race_ids: list[int]) -> dict:
        cards = racecards(race_ids=race_ids, day=day)
        body = {"date": day, "total": len(cards), "racecards": cards}
        return self.get_serializer(body).data


class ModelVersionRetrainApi(APIView):
    """Queue a new version like this one, trained on every race settled so far."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        request=ModelVersionRetrainInputSerializer,
        responses={202: OperationSerializer, 503: ErrorSerializer},
    )
    def post(self, request, pk: int):
        version = get_object_or_404(ModelVersion, pk=pk)
        data = ModelVersionRetrainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            # The operation and the new version are written together, or neither is.
            with transaction.atomic():
                operation = operation_create(
                    kind=Operation.Kind.MODEL_RETRAIN,
                    requested_by=request.user,
                    parameters={"model_version": version.pk, **data.validated_data},
                )
                model_version_retrain(
                    version=version, operation_id=operation.pk, **data.validated_data
                )
        except PredictionError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        except QueueingError as exc:
            # The new version is already failed with the reason; nothing waits for it.
            detail = f"The training {exc}. Try again once the queue is back."
            return Response({"detail": detail}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return races_views.operation_accepted(request, operation)


class ModelVersionTrainApi(APIView):
    """Send a queued, failed or stuck version to the training queue again. A version that is
    ready, or whose training may still be running, is refused (409)."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        request=None,
        responses={202: OperationSerializer, 409: ErrorSerializer, 503: ErrorSerializer},
    )
    def post(self, request, pk: int):
        version = get_object_or_404(ModelVersion, pk=pk)
        try:
            with transaction.atomic():
                operation = operation_create(
                    kind=Operation.Kind.MODEL_TRAIN,
                    requested_by=request.user,
                    parameters={"model_version": version.pk},
                )
                sent = model_version_requeue(version=version, operation_id=operation.pk)
                if not sent:
                    transaction.set_rollback(True)  # nothing was queued: no operation either
        except QueueingError as exc:
            detail = f"The training {exc}. Try again once the queue is back."
            return Response({"detail": detail}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        if not sent:
            detail = f"Version {version.pk} is {version.status}"
            if version.status == ModelVersion.Status.TRAINING:
                detail += f" since {version.started_at:%Y-%m-%d %H:%M:%S %Z}; a worker may still be"
                detail += " training it"
            return Response({"detail": f"{detail}."}, status=status.HTTP_409_CONFLICT)
        return races_views.operation_accepted(request, operation)


class PredictionsRefreshApi(APIView):
    """Queue a refresh of the predictions of some races, or of every race of a day."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        request={"application/json": PREDICTIONS_REFRESH_REQUEST},
        responses={202: OperationSerializer, 503: ErrorSerializer},
    )
    def post(self, request):
        data = PredictionsRefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        race_ids, day = data.validated_data.get("race_ids"), data.validated_data.get("date")
        parameters = {"date": day.isoformat()} if day else {"race_ids": race_ids}
        try:
            with transaction.atomic():
                operation = operation_create(
                    kind=Operation.Kind.PREDICTIONS_REFRESH,
                    requested_by=request.user,
                    parameters=parameters,
                )
                predictions_enqueue_refresh(race_ids=race_ids, day=day, operation_id=operation.pk)
        except QueueingError as exc:
            detail = f"The refresh {exc}. Try again once the queue is back."
            return Response({"detail": detail}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return races_views.operation_accepted(request, operation)
