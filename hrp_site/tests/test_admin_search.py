import pytest
from django.contrib import admin

pytestmark = pytest.mark.django_db

SEARCHABLE = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model, model_admin in admin.site._registry.items()
    if model_admin.search_fields
)


def test_every_searchable_admin_is_covered():
    assert ("races", "horse") in SEARCHABLE
    assert ("accounts", "user") in SEARCHABLE
    assert len(SEARCHABLE) >= 8


@pytest.mark.parametrize(("app_label", "model_name"), SEARCHABLE)
def test_a_change_list_search_over_100_characters_is_a_400_saying_so(
    staff_client, app_label, model_name
):
    response = staff_client.get(f"/admin/{app_label}/{model_name}/", {"q": "a" * 50_000})

    assert response.status_code == 400
    assert "The search is too long: at most 100 characters." in response.content.decode()


@pytest.mark.parametrize(("app_label", "model_name"), SEARCHABLE)
def test_a_change_list_search_of_100_characters_is_answered(staff_client, app_label, model_name):
    response = staff_client.get(f"/admin/{app_label}/{model_name}/", {"q": "a" * 100})

    assert response.status_code == 200


def test_a_change_list_search_with_a_nul_is_refused_by_django_s_own_search_form(staff_client):
    response = staff_client.get("/admin/races/horse/", {"q": "Red\x00Rum"})

    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


def test_an_autocomplete_term_with_a_nul_is_a_400_saying_so(staff_client):
    # The autocomplete has no form: the term went to PostgreSQL as it came, a 500 there.
    response = staff_client.get(
        "/admin/autocomplete/",
        {"term": "Red\x00Rum", "app_label": "races", "model_name": "runner", "field_name": "horse"},
    )

    assert response.status_code == 400
    assert "The search holds a NUL character." in response.content.decode()


def test_an_autocomplete_term_over_100_characters_is_a_400(staff_client):
    response = staff_client.get(
        "/admin/autocomplete/",
        {
            "term": "a" * 5_000,
            "app_label": "races",
            "model_name": "runner",
            "field_name": "horse",
        },
    )

    assert response.status_code == 400
    assert "The search is too long" in response.content.decode()
