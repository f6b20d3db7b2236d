import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail

from accounts.models import User

from .clients import page_html
from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-passphrase"


def signup_data(**overrides) -> dict[str, str]:
    return {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password1": "correct-horse-battery",
        "password2": "correct-horse-battery",
        **overrides,
    }


def logged_in_user_id(client) -> int | None:
    pk = client.session.get(SESSION_KEY)
    return int(pk) if pk is not None else None


def test_signup_creates_a_member_with_an_argon2_hash_and_logs_them_in(client, project_hashers):
    response = client.post("/accounts/signup/", signup_data(), follow=True)

    user = User.objects.get()
    assert response.redirect_chain == [("/", 302)]
    assert (user.username, user.email, user.is_staff) == ("newcomer", "newcomer@example.com", False)
    assert user.password.startswith("argon2")
    assert user.check_password("correct-horse-battery")
    assert logged_in_user_id(client) == user.pk
    assert [str(m) for m in response.context["messages"]] == ["Welcome to HRP, newcomer."]


def test_signup_page_has_labelled_fields_with_autocomplete(client):
    html = page_html(client, "/accounts/signup/", title="Sign up")

    assert '<button type="submit">Sign up</button>' in html
    for field, autocomplete in [
        ("username", "username"),
        ("email", "email"),
        ("password1", "new-password"),
        ("password2", "new-password"),
    ]:
        assert f'<label for="id_{field}">' in html
        assert re.search(rf'<input [^>]*autocomplete="{autocomplete}"[^>]*id="id_{field}"', html)


@pytest.mark.parametrize(
    ("password", "error"),
    [
        ("short-pass", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("847362918273", "This password is entirely numeric."),
    ],
)
def test_signup_rejects_a_weak_password(client, password, error):
    response = client.post("/accounts/signup/", signup_data(password1=password, password2=password))

    assert response.status_code == 200
    assert error in response.context["form"].errors["password2"]
    assert User.objects.count() == 0
    assert logged_in_user_id(client) is None


def test_signup_rejects_an_email_already_used_whatever_its_case(client):
    UserFactory(username="first", email="Taken@Example.com")

    response = client.post("/accounts/signup/", signup_data(email="taken@example.COM"))

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "An account with this e-mail address already exists."
    ]
    assert list(User.objects.values_list("username", flat=True)) == ["first"]
    assert logged_in_user_id(client) is None


def test_signup_requires_an_email(client):
    response = client.post("/accounts/signup/", signup_data(email=""))

    assert response.context["form"].errors["email"] == ["This field is required."]
    assert User.objects.count() == 0


@pytest.mark.parametrize("path", ["/accounts/signup/", "/accounts/login/"])
def test_a_logged_in_user_is_sent_home_from_signup_and_login(client, path):
    client.force_login(UserFactory())

    response = client.get(path)

    assert (response.status_code, response.url) == (302, "/")


def test_login_page_links_to_signup_and_password_reset(client):
    html = page_html(client, "/accounts/login/", title="Log in")

    assert '<button type="submit">Log in</button>' in html
    assert 'href="/accounts/signup/"' in html
    assert 'href="/accounts/password/reset/"' in html
    assert re.search(r'<input [^>]*autocomplete="username"[^>]*id="id_username"', html)
    assert re.search(r'<input [^>]*autocomplete="current-password"[^>]*id="id_password"', html)


def test_log_in_and_log_out(client):
    user = UserFactory(username="rider")

    logged_in = client.post("/accounts/login/", {"username": "rider", "password": PASSWORD})
    user_id_after_login = logged_in_user_id(client)
    logged_out = client.post("/accounts/logout/")

    assert (logged_in.status_code, logged_in.url) == (302, "/")
    assert user_id_after_login == user.pk
    assert (logged_out.status_code, logged_out.url) == (302, "/")
    assert logged_in_user_id(client) is None


def test_a_wrong_password_does_not_log_in(client):
    UserFactory(username="rider")

    response = client.post("/accounts/login/", {"username": "rider", "password": "wrong-one"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Please enter a correct username and password. Note that both fields may be case-sensitive."
    ]
    assert logged_in_user_id(client) is None


def test_logout_needs_post(client):
    user = UserFactory()
    client.force_login(user)

    response = client.get("/accounts/logout/")

    assert response.status_code == 405
    assert logged_in_user_id(client) == user.pk


def test_password_change(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    user.refresh_from_db()
    assert (response.status_code, response.url) == (302, "/accounts/password/change/done/")
    assert user.check_password(NEW_PASSWORD)
    assert logged_in_user_id(client) == user.pk  # the session survives the change


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/accounts/password/change/done/", "Password changed"),
        ("/accounts/password/reset/done/", "Check your e-mail"),
        ("/accounts/password/reset/complete/", "Password set"),
    ],
)
def test_the_pages_that_confirm_a_step_use_the_site_templates(client, url, title):
    page_html(client, url, user=UserFactory(), title=title)


def test_password_change_with_a_wrong_old_password_changes_nothing(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        "/accounts/password/change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    user.refresh_from_db()
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    assert user.check_password(PASSWORD)


def test_password_reset_end_to_end(client):
    # given a member who forgot their password
    user = UserFactory(username="forgetful", email="forgetful@example.com")

    # when they ask for a reset link and follow it
    asked = client.post("/accounts/password/reset/", {"email": "FORGETFUL@example.com"})
    assert (asked.status_code, asked.url) == (302, "/accounts/password/reset/done/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (message.subject, message.to) == ("Reset your HRP password", ["forgetful@example.com"])
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    set_password_url = form_page.redirect_chain[-1][0]
    assert form_page.context["validlink"] is True
    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    # then the new password logs them in
    assert (done.status_code, done.url) == (302, "/accounts/password/reset/complete/")
    logged_in = client.post("/accounts/login/", {"username": "forgetful", "password": NEW_PASSWORD})
    assert (logged_in.status_code, logged_in.url) == (302, "/")
    assert logged_in_user_id(client) == user.pk


def test_an_older_hash_still_verifies_and_is_upgraded_to_argon2(
    client, password_hashers, project_hashers
):
    # given a member whose password was hashed with PBKDF2, Django's default before Argon2
    password_hashers(project_hashers[1:])
    user = UserFactory(username="veteran")
    assert user.password.startswith("pbkdf2_sha256$")
    password_hashers(project_hashers)

    # when they log in
    response = client.post("/accounts/login/", {"username": "veteran", "password": PASSWORD})

    # then it works and the stored hash is now Argon2
    user.refresh_from_db()
    assert (response.status_code, response.url) == (302, "/")
    assert user.password.startswith("argon2")


def test_password_reset_for_an_unknown_address_sends_nothing(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert (response.status_code, response.url) == (302, "/accounts/password/reset/done/")
    assert mail.outbox == []


def test_profile_shows_the_account_and_its_links(client):
    user = UserFactory(username="rider")

    html = page_html(client, "/accounts/profile/", user=user, title="Your profile")

    assert "<dt>Role</dt><dd>Member</dd>" in html
    assert 'href="/accounts/password/change/"' in html
    assert 'href="/api/docs/"' in html


def test_profile_shows_staff_as_staff(client, staff_user):
    html = page_html(client, "/accounts/profile/", user=staff_user, title="Your profile")

    assert "<dt>Role</dt><dd>Staff</dd>" in html


def test_profile_edit(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        "/accounts/profile/",
        {"first_name": "Zac", "last_name": "Purton", "email": "zac@example.com"},
        follow=True,
    )

    user.refresh_from_db()
    assert response.redirect_chain == [("/accounts/profile/", 302)]
    assert (user.first_name, user.last_name, user.email) == ("Zac", "Purton", "zac@example.com")
    assert [str(m) for m in response.context["messages"]] == ["Your profile is saved."]


def test_profile_edit_refuses_another_accounts_email(client):
    UserFactory(email="taken@example.com")
    user = UserFactory(email="mine@example.com")
    client.force_login(user)

    response = client.post(
        "/accounts/profile/", {"first_name": "", "last_name": "", "email": "TAKEN@example.com"}
    )

    user.refresh_from_db()
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "An account with this e-mail address already exists."
    ]
    assert user.email == "mine@example.com"


def test_profile_needs_a_login(client):
    response = client.get("/accounts/profile/")

    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/accounts/profile/")


def test_profile_sets_the_odds_format_and_keeps_it_when_left_out(client):
    # given
    user = UserFactory(email="zac@example.com")
    client.force_login(user)
    details = {"first_name": "", "last_name": "", "email": "zac@example.com"}

    # when: the member picks fractional odds, then saves the form without the field
    chosen = client.post("/accounts/profile/", {**details, "odds_format": "fractional"})
    user.refresh_from_db()
    picked = user.odds_format
    client.post("/accounts/profile/", details)
    user.refresh_from_db()

    # then
    assert chosen.status_code == 302
    assert picked == user.odds_format == "fractional"
    page = client.get("/accounts/profile/").content.decode()
    assert 'name="odds_format" value="fractional"' in page
    assert "Fractional (9/2)" in page


def test_profile_refuses_an_unknown_odds_format(client):
    user = UserFactory(email="zac@example.com")
    client.force_login(user)

    response = client.post(
        "/accounts/profile/", {"email": "zac@example.com", "odds_format": "american"}
    )

    user.refresh_from_db()
    assert response.status_code == 200
    assert "Select a valid choice. american is not one of the available choices." in (
        response.content.decode()
    )
    assert user.odds_format == "decimal"
