from drf_spectacular.utils import extend_schema
from knox import views as knox_views
from rest_framework.authentication import BasicAuthentication, SessionAuthentication

from .serializers import TokenSerializer


class TokenCreateApi(knox_views.LoginView):
    """Create a token for one API client, signing in with a username and password (HTTP Basic)
    or the browser session. Send it as `Authorization: Token <token>`."""

    authentication_classes = [BasicAuthentication, SessionAuthentication]

    @extend_schema(request=None, responses={200: TokenSerializer})
    def post(self, request, format=None):
        return super().post(request, format=format)


class TokenRevokeApi(knox_views.LogoutView):
    """Revoke the token this request is made with."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format=format)
