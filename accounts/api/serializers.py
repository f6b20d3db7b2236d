from rest_framework import serializers

DIGEST_PREFIX_LENGTH = 10


class TokenSerializer(serializers.Serializer):
    """A new API token. Only its digest is stored: this is the one time it is shown."""

    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class TokenListSerializer(serializers.Serializer):
    """One of the caller's live tokens, named by the start of its digest; never the token."""

    digest_prefix = serializers.SerializerMethodField(
        help_text="The first characters of the token's SHA-512 digest, to tell tokens apart."
    )
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField(
        help_text="Whether this request was made with this token."
    )

    def get_digest_prefix(self, token) -> str:
        return token.digest[:DIGEST_PREFIX_LENGTH]

    def get_current(self, token) -> bool:
        return token.digest == getattr(self.context["request"].auth, "digest", None)
