"""A trained version is what its stored model was fitted with: staff may annotate and activate
it, never change its algorithm, settings, window, features or metrics."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from predictions.models import ModelArtifact, ModelVersion
from predictions.services.versions import (
    model_version_annotate,
    model_version_claim,
    model_version_create,
    model_version_train,
)
from races.demo import demo_data_seed

from .factories import ModelVersionFactory

pytestmark = pytest.mark.django_db

FIXED = {
    "algorithm": "logit",
    "hyperparameters": {"alpha": 1.0},
    "features": ["rating", "draw"],
    "train_from": datetime.date(2020, 1, 1),
    "train_until": datetime.date(2023, 12, 31),
    "seed": 7,
    "library_versions": {"numpy": "2.0.0"},
    "metrics": {"log_loss": 2.1},
}


def trained_version(**values) -> ModelVersion:
    return ModelVersionFactory(**{**FIXED, "status": ModelVersion.Status.READY, **values})


def stored(version: ModelVersion) -> dict:
    return ModelVersion.objects.filter(pk=version.pk).values(*FIXED, "notes").get()


def admin_form(version: ModelVersion, **changes) -> dict:
    form = {
        "algorithm": version.algorithm,
        "train_from": version.train_from.isoformat() if version.train_from else "",
        "train_until": version.train_until.isoformat(),
        "seed": version.seed,
        "hyperparameters": '{"alpha": 1.0}',
        "notes": version.notes,
    }
    return {**form, **changes}


# --- the model -------------------------------------------------------------------------------


def test_clean_names_each_fixed_field_changed_on_a_trained_version():
    version = trained_version()
    version.algorithm = "xgboost"
    version.metrics = {"log_loss": 1.0}
    version.train_until = datetime.date(2024, 6, 30)

    with pytest.raises(ValidationError) as raised:
        version.full_clean()

    assert sorted(raised.value.message_dict) == ["algorithm", "metrics", "train_until"]
    assert raised.value.message_dict["train_until"] == [
        f"Version {version.pk} is trained: its train until cannot be changed."
    ]


def test_clean_lets_notes_change_on_a_trained_version():
    version = trained_version()
    version.notes = "Benchmark for the 2024 season."

    version.full_clean()


@pytest.mark.parametrize(
    "status",
    [ModelVersion.Status.QUEUED, ModelVersion.Status.FAILED, ModelVersion.Status.TRAINING],
)
def test_clean_lets_a_version_not_trained_yet_change(status):
    version = trained_version(status=status)
    version.algorithm = "xgboost"
    version.seed = 8

    version.full_clean()


# --- the admin -------------------------------------------------------------------------------


def test_admin_shows_a_trained_versions_settings_read_only(staff_client):
    version = trained_version()
    queued = trained_version(status=ModelVersion.Status.QUEUED)

    trained_page = staff_client.get(
        reverse("admin:predictions_modelversion_change", args=[version.pk])
    )
    queued_page = staff_client.get(
        reverse("admin:predictions_modelversion_change", args=[queued.pk])
    )

    trained_form = trained_page.context["adminform"].form
    assert sorted(trained_form.fields) == ["notes"]
    assert sorted(queued_page.context["adminform"].form.fields) == [
        "algorithm",
        "hyperparameters",
        "notes",
        "seed",
        "train_from",
        "train_until",
    ]


def test_admin_post_changing_a_trained_version_changes_only_its_notes(staff_client):
    version = trained_version()
    before = stored(version)

    response = staff_client.post(
        reverse("admin:predictions_modelversion_change", args=[version.pk]),
        admin_form(
            version,
            algorithm="xgboost",
            seed=99,
            train_until="2025-01-01",
            hyperparameters='{"alpha": 9}',
            notes="checked by hand",
        ),
    )

    assert response.status_code == 302
    assert stored(version) == {**before, "notes": "checked by hand"}


def test_admin_post_changes_a_queued_versions_settings(staff_client):
    version = trained_version(status=ModelVersion.Status.QUEUED)

    response = staff_client.post(
        reverse("admin:predictions_modelversion_change", args=[version.pk]),
        admin_form(version, seed=99, train_until="2024-01-31"),
    )

    assert response.status_code == 302
    assert stored(version)["seed"] == 99
    assert stored(version)["train_until"] == datetime.date(2024, 1, 31)


# --- the API ---------------------------------------------------------------------------------


def detail(version: ModelVersion) -> str:
    return f"/api/v1/model-versions/{version.pk}/"


def test_staff_patches_a_trained_versions_notes(staff_api):
    version = trained_version()
    before = stored(version)

    response = staff_api.patch(detail(version), {"notes": "keep for 2024"}, format="json")

    assert response.status_code == 200
    assert response.json()["notes"] == "keep for 2024"
    assert response.json()["algorithm"] == "logit"
    assert stored(version) == {**before, "notes": "keep for 2024"}


def test_staff_puts_notes(staff_api):
    version = trained_version(notes="old")

    response = staff_api.put(detail(version), {"notes": ""}, format="json")

    assert response.status_code == 200
    assert stored(version)["notes"] == ""


@pytest.mark.parametrize(
    "body",
    [
        {"algorithm": "xgboost"},
        {"metrics": {"log_loss": 0.1}},
        {"notes": "sneaky", "algorithm": "xgboost", "metrics": {}, "train_until": "2025-01-01"},
        {"status": "queued"},
    ],
)
def test_patch_of_anything_but_notes_is_refused_by_name(staff_api, body):
    version = trained_version()
    before = stored(version)

    response = staff_api.patch(detail(version), body, format="json")

    assert response.status_code == 400
    refused = sorted(name for name in body if name != "notes")
    assert sorted(response.json()) == refused
    for name in refused:
        assert response.json()[name] == [
            f"{name} cannot be changed on a model version; only notes can."
        ]
    assert stored(version) == before
    assert ModelVersion.objects.get(pk=version.pk).status == ModelVersion.Status.READY


def test_members_cannot_patch_notes(member_api):
    version = trained_version()

    response = member_api.patch(detail(version), {"notes": "mine"}, format="json")

    assert response.status_code == 403
    assert stored(version)["notes"] == ""


def test_the_api_creates_and_deletes_no_versions(staff_api):
    version = trained_version()

    assert staff_api.post("/api/v1/model-versions/", FIXED, format="json").status_code == 405
    assert staff_api.delete(detail(version)).status_code == 405
    assert list(ModelVersion.objects.values_list("pk", flat=True)) == [version.pk]


# --- activation ------------------------------------------------------------------------------


def activate(version: ModelVersion) -> str:
    return f"/api/v1/model-versions/{version.pk}/activate/"


def test_staff_activates_a_ready_version(staff_api):
    old = trained_version(is_active=True)
    new = trained_version()

    response = staff_api.post(activate(new))

    assert response.status_code == 200
    assert response.json()["id"] == new.pk
    assert response.json()["is_active"] is True
    assert list(ModelVersion.objects.active().values_list("pk", flat=True)) == [new.pk]
    old.refresh_from_db()
    assert old.is_active is False


def test_activating_a_version_not_ready_is_a_conflict(staff_api):
    queued = trained_version(status=ModelVersion.Status.QUEUED)

    response = staff_api.post(activate(queued))

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Version {queued.pk} is queued, not ready: only a ready version can be "
        "activated."
    }
    assert not ModelVersion.objects.active().exists()


def test_members_cannot_activate(member_api):
    version = trained_version()

    response = member_api.post(activate(version))

    assert response.status_code == 403
    assert not ModelVersion.objects.active().exists()


# --- training ----------------------------------------------------------------------------------


def test_training_keeps_the_notes_staff_wrote_while_it_ran():
    demo_data_seed(seed=5, today=datetime.date(2026, 5, 20), days_ahead=1, history_days=30)
    version = model_version_create(algorithm="market", train_until=datetime.date(2026, 5, 19))
    model_version_claim(version_id=version.pk)

    def progress(message: str) -> None:
        if message == "fitting":
            meanwhile = ModelVersion.objects.get(pk=version.pk)
            model_version_annotate(version=meanwhile, notes="written while it trained")

    model_version_train(version=version, progress=progress)

    version.refresh_from_db()
    assert (version.status, version.notes) == ("ready", "written while it trained")
    assert version.features != []
    assert ModelArtifact.objects.filter(version=version).exists()


def test_notes_must_be_a_string(staff_api):
    version = ModelVersionFactory(notes="")

    response = staff_api.patch(f"/api/v1/model-versions/{version.pk}/", {"notes": 0}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["notes"]
    version.refresh_from_db()
    assert version.notes == ""


def test_the_schema_takes_notes_alone(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    operations = schema["paths"]["/api/v1/model-versions/{id}/"]
    for method, required in (("put", ["notes"]), ("patch", None)):
        body = operations[method]["requestBody"]["content"]["application/json"]["schema"]
        assert body["additionalProperties"] is False
        assert list(body["properties"]) == ["notes"]
        assert body.get("required") == required
