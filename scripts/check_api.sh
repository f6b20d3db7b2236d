#!/usr/bin/env bash
# The API against its own schema, for CI:
#   1. the OpenAPI schema is generated without warnings and validates;
#   2. Schemathesis fuzzes every operation on a local server over a scratch, seeded SQLite database,
#      as staff (a knox token), and fails on any 5xx or any response the schema does not describe.
#      Not checked: that every schema-valid body is accepted (a race for racecourse 0 is a 400,
#      which the schema cannot express); that every schema-invalid request is refused (DRF ignores
#      a page_size it cannot read, and a blank form field counts as absent); token revocation
#      (it would revoke the fuzzer's own token).
# Run from anywhere: bash scripts/check_api.sh. SCHEMATHESIS_MAX_EXAMPLES bounds the cases per
# operation (default 10).
set -euo pipefail

# shellcheck source=lib/repo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/repo.sh"
PATH="$repo_root/.venv/bin:$PATH"

scratch="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

echo "== spectacular --validate --fail-on-warn"
python manage.py spectacular --validate --fail-on-warn --file "$scratch/schema.yaml"

# A database of its own, no Redis (in-process cache) and a broker that only holds the tasks the
# operations queue, so fuzzing them trains and syncs nothing. Nothing sits in front of the server,
# and the limits are out of the fuzzer's way.
export DATABASE_URL="sqlite:///$scratch/db.sqlite3"
export REDIS_URL=""
export CELERY_TASK_ALWAYS_EAGER=false
export DJANGO_API_NUM_PROXIES=0
export DJANGO_API_THROTTLE_ANON=100000/minute
export DJANGO_API_THROTTLE_USER=100000/minute
export DJANGO_API_THROTTLE_LOGIN_ADDRESS=100000/minute
export DJANGO_API_THROTTLE_LOGIN_USERNAME=100000/minute
export DJANGO_MEDIA_ROOT="$scratch/media"
# Outside debug mode the server refuses to start without these (hrp_site/checks.py).
export DJANGO_SECRET_KEY="check-api-scratch-key-$(python -c 'import secrets; print(secrets.token_hex(16))')"
export DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost"

echo "== scratch database"
python manage.py migrate --no-input >/dev/null
DJANGO_DEBUG=true python manage.py seed_demo --history-days 10 --days-ahead 1 >/dev/null
token="$(python manage.py shell --no-imports -c '
from django.contrib.auth import get_user_model
from knox.models import AuthToken
staff = get_user_model().objects.filter(is_staff=True).get(username="demo-staff")
print(AuthToken.objects.create(user=staff)[1])
')"

port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
echo "== runserver on 127.0.0.1:$port"
python manage.py runserver "127.0.0.1:$port" --noreload >"$scratch/server.log" 2>&1 &
server_pid=$!

echo "== schemathesis"
# From the scratch folder, where it leaves its example database.
cd "$scratch"
if ! schemathesis run "http://127.0.0.1:$port/api/schema/" \
    --wait-for-schema 60 \
    --header "Authorization:Token $token" \
    --checks all \
    --exclude-checks positive_data_acceptance,negative_data_rejection \
    --exclude-path /api/v1/tokens/revoke/ \
    --exclude-path /api/v1/tokens/revoke-all/ \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-10}" \
    --seed 1 \
    --workers 1 \
    --request-timeout 30; then
    echo "check_api: schemathesis failed; the server's log:" >&2
    grep -E "Traceback|Error|\" 5[0-9][0-9] " "$scratch/server.log" | tail -40 >&2 || true
    exit 1
fi
echo "check_api: all checks passed"
