"""A missing outside part skips a test, except where its HRP_REQUIRE_* flag fails it."""

import pytest

from hrp_site.testing.required import require_postgresql, skip_unless_required


def test_a_missing_part_skips_the_test_where_it_is_not_required(monkeypatch):
    monkeypatch.delenv("HRP_REQUIRE_SHARED_DATA", raising=False)

    with pytest.raises(pytest.skip.Exception) as skipped:
        skip_unless_required("HRP_REQUIRE_SHARED_DATA", "the shared data is not at /nowhere")

    assert str(skipped.value) == "the shared data is not at /nowhere"


def test_a_missing_part_fails_the_test_where_it_is_required(monkeypatch):
    monkeypatch.setenv("HRP_REQUIRE_SHARED_DATA", "1")

    with pytest.raises(pytest.fail.Exception) as failed:
        skip_unless_required("HRP_REQUIRE_SHARED_DATA", "the shared data is not at /nowhere")

    assert str(failed.value) == (
        "HRP_REQUIRE_SHARED_DATA is set, and the shared data is not at /nowhere"
    )


@pytest.mark.parametrize(
    ("required", "outcome"), [("", pytest.skip.Exception), ("1", pytest.fail.Exception)]
)
def test_a_test_that_needs_postgresql_skips_or_fails_on_another_database(
    monkeypatch, required, outcome
):
    monkeypatch.setattr("hrp_site.testing.required.connection.vendor", "sqlite")
    monkeypatch.setenv("HRP_REQUIRE_POSTGRESQL", required)

    with pytest.raises(outcome, match="rolling deploys run on PostgreSQL"):
        require_postgresql("rolling deploys run on PostgreSQL")


def test_a_test_that_needs_postgresql_runs_on_postgresql(monkeypatch):
    monkeypatch.setattr("hrp_site.testing.required.connection.vendor", "postgresql")
    monkeypatch.setenv("HRP_REQUIRE_POSTGRESQL", "1")

    assert require_postgresql("rolling deploys run on PostgreSQL") is None
