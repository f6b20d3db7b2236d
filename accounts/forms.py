from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.validators import MaxLengthValidator

from races.odds import OddsFormat

from .models import User


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=exclude_pk).exists()


EMAIL_TAKEN = "An account with this e-mail address already exists."


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="For resetting your password; never shown to anyone.",
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if _email_taken(email):
            raise forms.ValidationError(EMAIL_TAKEN, code="unique")
        return email


class BoundedUsernameMixin:
    """Django's log-in forms only set the username field's maxlength attribute, so a longer
    username reached authenticate() and django-axes failed to record it (a 255-character
    column), a 500. Here it is a form error, checked before any password is."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class LoginForm(BoundedUsernameMixin, AuthenticationForm):
    pass


class AdminLoginForm(BoundedUsernameMixin, AdminAuthenticationForm):
    pass


class ProfileForm(forms.ModelForm):
    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    # Not required: a form that leaves it out (an older page, a script) keeps the member's choice.
    odds_format = forms.ChoiceField(
        label="Odds on race cards",
        choices=OddsFormat.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text="The market's odds and our fair odds, as decimal or as fractional odds.",
    )

    class Meta:
        model = User
        fields = ("first_name", "last_name", "email", "odds_format")
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
        }

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if _email_taken(email, exclude_pk=self.instance.pk):
            raise forms.ValidationError(EMAIL_TAKEN, code="unique")
        return email

    def clean_odds_format(self) -> str:
        return self.cleaned_data["odds_format"] or self.instance.odds_format
