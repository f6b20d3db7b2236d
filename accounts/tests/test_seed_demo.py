"""`seed_demo`: the demo racing data (races.demo) and the demo logins, for `make run`.

The command lives here, in the app that builds on races, because it makes logins too.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from races.models import Race, Runner


@pytest.mark.django_db
def test_command_prints_the_counts_and_the_logins(settings):
    settings.DEBUG = True
    out = StringIO()

    call_command("seed_demo", "--history-days", "3", "--days-ahead", "1", stdout=out)

    output = out.getvalue()
    assert "  racecourses: 4\n" in output
    assert "  horses: 300\n" in output
    assert f"  runners: {Runner.objects.count()}\n" in output
    assert f"  declared races: {Race.objects.filter(status='declared').count()}\n" in output
    assert "Demo staff login: demo-staff / hrp-demo-staff\n" in output
    assert "Demo member login: demo-member / hrp-demo-member\n" in output


@pytest.mark.django_db
def test_command_rejects_a_negative_window_and_writes_nothing(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="cannot be negative"):
        call_command("seed_demo", "--history-days", "-1", stdout=StringIO())

    assert not Race.objects.exists()


@pytest.mark.django_db
def test_command_refuses_without_debug_and_writes_nothing(django_user_model):
    with pytest.raises(CommandError, match="runs only with DJANGO_DEBUG=true"):
        call_command("seed_demo", stdout=StringIO())

    assert not Race.objects.exists()
    assert not django_user_model.objects.exists()


@pytest.mark.django_db
def test_command_runs_without_debug_when_told_to():
    call_command(
        "seed_demo",
        "--history-days",
        "0",
        "--days-ahead",
        "0",
        "--allow-without-debug",
        stdout=StringIO(),
    )

    assert Race.objects.filter(status="declared").exists()
