import pytest

from accounts.models import User
from accounts.services import demo_users_ensure

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def accounts() -> list[tuple]:
    return list(
        User.objects.order_by("username").values_list(
            "pk", "username", "password", "is_staff", "is_superuser", "is_active"
        )
    )


def test_creates_a_staff_and_a_member_account():
    logins = demo_users_ensure()

    assert logins == [("demo-staff", "hrp-demo-staff"), ("demo-member", "hrp-demo-member")]
    staff = User.objects.get(username="demo-staff")
    member = User.objects.get(username="demo-member")
    assert (staff.is_staff, staff.is_superuser, staff.is_active) == (True, True, True)
    assert (member.is_staff, member.is_superuser, member.is_active) == (False, False, True)
    assert staff.check_password("hrp-demo-staff")
    assert member.check_password("hrp-demo-member")


def test_second_call_creates_and_changes_nothing():
    demo_users_ensure()
    before = accounts()

    demo_users_ensure()

    assert accounts() == before
    assert User.objects.count() == 2


def test_puts_a_changed_account_back_to_the_demo_login():
    # given a demo member whose password and flags were changed by hand
    user = UserFactory(
        username="demo-member", password="something-else-entirely", is_staff=True, is_active=False
    )

    # when
    demo_users_ensure()

    # then the same account has the demo password and is a plain member again
    user.refresh_from_db()
    assert User.objects.filter(username="demo-member").count() == 1
    assert user.check_password("hrp-demo-member")
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)


def test_leaves_other_accounts_alone(staff_user):
    before = list(User.objects.filter(pk=staff_user.pk).values_list("password", "is_staff"))

    demo_users_ensure()

    assert list(User.objects.filter(pk=staff_user.pk).values_list("password", "is_staff")) == before
    assert User.objects.count() == 3
