from django.contrib.auth import get_user_model
from django.db import transaction

# (username, password, staff): published in the README and printed by seed_demo, so never use
# these accounts anywhere but a local demo.
DEMO_USERS = (
    ("demo-staff", "hrp-demo-staff", True),
    ("demo-member", "hrp-demo-member", False),
)


@transaction.atomic
def demo_users_ensure() -> list[tuple[str, str]]:
    """Create the demo staff and member accounts, or put them back to their known state.

    The password is reset only when it no longer matches, so that the printed logins always work
    and a re-run leaves an untouched account as it was. Returns (username, password) pairs.
    """
    user_model = get_user_model()
    logins = []
    for username, password, staff in DEMO_USERS:
        user, created = user_model.objects.get_or_create(username=username)
        wanted = {"is_staff": staff, "is_superuser": staff, "is_active": True}
        changed = [field for field, value in wanted.items() if getattr(user, field) != value]
        for field in changed:
            setattr(user, field, wanted[field])
        if created or not user.check_password(password):
            user.set_password(password)
            changed.append("password")
        if changed:
            user.save(update_fields=changed)
        logins.append((username, password))
    return logins
