"""Schemathesis hooks for scripts/check_api.sh (SCHEMATHESIS_HOOKS=check_api_hooks).

A write that the schema allows is still refused (400) when it names a row that does not exist,
takes a unique set that another row holds, or breaks a rule that depends on the row as saved.
No schema can say which ids exist; the other rules are stated in words in the schema. For the
write operations in scripts/check_api.toml, this check replaces Schemathesis's
positive_data_acceptance: it fails just as that check does, unless every message of the 400
is one of these.
"""

import re

import schemathesis
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import positive_data_acceptance

# (field, message): a field of None matches any field.
ROW_DEPENDENT_ERRORS = [
    (None, re.compile(r'Invalid pk "[^"]*" - object does not exist\.')),
    ("race_ids", re.compile(r"No race with id [0-9, ]+\.")),
    ("non_field_errors", re.compile(r"The fields [a-z_, ]+ must make a unique set\.")),
    # A runner's rules, which the schema states; on a PATCH they depend on the saved runner.
    ("finish_position", re.compile(r"A non-runner has no finishing position\.")),
    ("dead_heat", re.compile(r"A dead heat needs a finishing position\.")),
    # A decimal travels in a string, which a numeric bound cannot constrain; the schema
    # states the bound in words and the pattern keeps the sign out.
    ("win_odds", re.compile(r"Ensure this value is greater than or equal to 1\.01\.")),
    ("place_odds", re.compile(r"Ensure this value is greater than or equal to 1\.00\.")),
]


def _only_row_dependent(body) -> bool:
    if not isinstance(body, dict) or not body:
        return False
    for field, messages in body.items():
        if not isinstance(messages, list) or not messages:
            return False
        for message in messages:
            if not isinstance(message, str) or not any(
                name in (None, field) and rule.fullmatch(message)
                for name, rule in ROW_DEPENDENT_ERRORS
            ):
                return False
    return True


@schemathesis.check
def positive_data_acceptance_given_rows(ctx, response, case):
    """positive_data_acceptance, except a 400 that only says what ROW_DEPENDENT_ERRORS say."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except Failure:
        if response.status_code == 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            if _only_row_dependent(body):
                return None
        raise
