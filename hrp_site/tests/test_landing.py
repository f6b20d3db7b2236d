import datetime

import pytest
from django.urls import reverse

from predictions.tests.evaluations import stored_evaluation
from predictions.tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db

FROM, TO = datetime.date(2026, 10, 2), datetime.date(2026, 10, 29)
MARKETING = "What members get"


def evaluated(algorithm: str, log_loss: float, sources=("demo",)):
    evaluation = stored_evaluation(
        algorithm=algorithm,
        date_from=FROM,
        date_to=TO,
        log_loss=log_loss,
        market_log_loss=1.95,
        sources=sources,
    )
    return ModelVersionFactory(
        algorithm=algorithm,
        train_until=datetime.date(2026, 10, 1),
        metrics={"evaluations": {f"{FROM}..{TO}": evaluation}},
    )


def test_visitors_see_what_hrp_is_and_the_track_record_of_held_out_races(client):
    # given
    evaluated("lightgbm", 1.9123)
    evaluated("market", 1.95)

    # when
    response = client.get(reverse("home"))

    # then
    assert response.status_code == 200
    content = " ".join(response.content.decode().split())
    assert MARKETING in content
    assert f'href="{reverse("accounts:signup")}">Sign up</a>' in content
    assert f'href="{reverse("accounts:login")}">Log in</a>' in content
    assert '<p class="demo-notice" role="note"><strong>Demo data.</strong>' in content
    rows = response.context["track_record"]["rows"]
    assert [row["label"] for row in rows] == ["Market (normalised odds)", "LightGBM"]
    assert (
        '<th scope="row">LightGBM <span class="badge demo">Demo</span></th> '
        '<td class="nowrap">2 Oct 2026 – 29 Oct 2026</td> '
        '<td class="num">40</td> '
        '<td class="num"> <span class="edge positive">1.9123</span> '
        '<span class="muted">(1.9500)</span> </td> '
        '<td class="num">0.2351 <span class="muted">(0.2200)</span></td> '
        '<td>Beats the market <span class="muted nowrap">(ΔR² +0.0151, 90 % interval +0.0111 '
        "to +0.0191)</span></td> "
        '<td class="num">32.5% <span class="muted">(30.0%)</span></td> '
        '<td class="num">+10.0% <span class="muted">(60 bets)</span></td>'
    ) in content


def test_real_races_carry_no_demo_notice(client):
    evaluated("lightgbm", 1.99, sources=("hkracing",))

    response = client.get(reverse("home"))

    content = response.content.decode()
    assert response.context["track_record"]["demo"] is False
    assert "demo-notice" not in content
    assert '<span class="edge negative">1.9900</span>' in content


def test_visitors_are_told_when_nothing_has_been_evaluated(client):
    ModelVersionFactory(algorithm="logit", metrics={})

    response = client.get(reverse("home"))

    assert response.context["track_record"] == {"rows": [], "demo": False}
    assert "No model has been scored on held-out races yet" in response.content.decode()


def test_members_get_their_home_page_instead(client, member_user):
    evaluated("lightgbm", 1.9123)
    client.force_login(member_user)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert MARKETING not in response.content.decode()
    assert "track_record" not in response.context
