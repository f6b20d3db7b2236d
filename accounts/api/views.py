from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from knox import views as knox_views
from knox.models import AuthToken
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.settings import api_settings

from .authentication import BasicAuthentication, TokenAuthentication
from .serializers import TokenListSerializer, TokenSerializer
from .throttling import TokenAddressRateThrottle, TokenUsernameRateThrottle


class TokenListCreateApi(knox_views.LoginView, generics.ListAPIView):
    """The caller's API tokens: list the live ones, or create one."""

    serializer_class = TokenListSerializer
    filter_backends = []

    def get_authenticators(self):
        # A password or the browser session creates a token, never another token: a stolen
        # token must not mint tokens that outlive it. Listing takes any of them. (The request is
        # None while drf-spectacular builds its mock request.)
        if getattr(self.request, "method", None) == "POST":
            return [BasicAuthentication(), SessionAuthentication()]
        return super().get_authenticators()

    def initial(self, request, *args, **kwargs):
        # Before authentication, which checks the password: a refused attempt costs no hash.
        if request.method == "POST":
            for throttle in (TokenAddressRateThrottle(), TokenUsernameRateThrottle()):
                if not throttle.allow_request(request, self):
                    self.throttled(request, throttle.wait())
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        live = Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
        return AuthToken.objects.filter(live, user=self.request.user).order_by("-created")

    @extend_schema(
        description="The caller's live tokens, newest first: the start of each token's digest, "
        "when it was created and when it expires. A token itself is shown only once, on creation."
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={201: TokenSerializer},
        description="Create a token for one API client, signing in with a username and password "
        "(HTTP Basic) or the browser session. Send it as `Authorization: Token <token>`.",
    )
    def post(self, request, format=None):
        response = super().post(request, format=format)
        # Knox answers 200; a token is a new resource.
        response.status_code = status.HTTP_201_CREATED
        return response


class TokenRevokeApi(knox_views.LogoutView):
    """Revoke the token this request is made with."""

    # Ours, not knox's own class (LogoutView's): one token query, and one scheme in the schema.
    authentication_classes = [TokenAuthentication]

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format=format)


class TokenRevokeAllApi(knox_views.LogoutAllView):
    """Revoke every token of the caller, the one this request is made with too. Signed in with
    the browser session, a member can revoke a token they no longer hold."""

    authentication_classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format=format)
