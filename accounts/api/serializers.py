from rest_framework import serializers


class TokenSerializer(serializers.Serializer):
    """A new API token. Only its digest is stored: this is the one time it is shown."""

    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)
