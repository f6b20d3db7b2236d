import codecs

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

# Longer than any name or id; SQLite refuses a LIKE pattern over 50,000 bytes.
SEARCH_MAX_LENGTH = 100


class SearchForm(forms.Form):
    """The site search: a name or part of one, or a provider's id."""

    q = forms.CharField(
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        error_messages={
            "max_length": "The search is too long: at most %(limit_value)d characters."
        },
    )


class HkracingImportForm(forms.Form):
    """A staff upload of the Hong Kong results data set: its races file and its runs file."""

    required_css_class = "required"

    races_file = forms.FileField(
        label="Races file",
        help_text="races.csv: one row per race, keyed by race_id.",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )
    runs_file = forms.FileField(
        label="Runs file",
        help_text="runs.csv: one row per runner, pointing at its race_id.",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_races_file(self):
        return _utf8_upload(self.cleaned_data["races_file"])

    def clean_runs_file(self):
        return _utf8_upload(self.cleaned_data["runs_file"])


def _utf8_upload(upload):
    # Both files are read into memory and stored in the database.
    limit = settings.HRP_HKRACING_UPLOAD_MAX_MB
    if upload.size > limit * 1024 * 1024:
        raise ValidationError(
            "%(name)s is %(size).1f MB; the limit is %(limit)d MB a file "
            "(HRP_HKRACING_UPLOAD_MAX_MB).",
            code="size",
            params={"name": upload.name, "size": upload.size / 1024 / 1024, "limit": limit},
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in upload.chunks():
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "%(name)s is not UTF-8 text; save it as CSV (UTF-8) and upload it again.",
            code="encoding",
            params={"name": upload.name},
        ) from exc
    upload.seek(0)
    return upload
