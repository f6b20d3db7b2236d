"""What every app's API shares: the permission, the pagination, the error and operation bodies."""

from django.http import JsonResponse
from django.views import defaults
from rest_framework import pagination, permissions, serializers


class IsMemberReadStaffWrite(permissions.BasePermission):
    """Signed-in members read; only staff write."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_staff


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class OperationQueuedSerializer(serializers.Serializer):
    """What an operation answers: it was queued, and where to follow it."""

    status = serializers.CharField()
    poll = serializers.CharField(help_text="The URL to poll for the result.")


def not_found(request, exception):
    """Django's 404 page, except under /api/, where clients expect JSON like DRF's own 404s."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
