#!/usr/bin/env bash
# The API against its own schema, for CI:
#   1. the OpenAPI schema is generated without warnings and validates;
#   2. Schemathesis runs every check on every operation on a local server over a scratch, seeded
#      SQLite database, as staff (a knox token): no 5xx, every response as the schema describes,
#      every request the schema allows accepted, every request it forbids refused.
#      Left out, with the reason:
#      - token revocation (/api/v1/tokens/revoke/, revoke-all/): it would revoke the fuzzer's own
#        token;
#      - on the writes that name other rows (POST/PUT/PATCH races and runners, POST
#        predictions/refresh/), positive_data_acceptance gives way to
#        positive_data_acceptance_given_rows (scripts/check_api_hooks.py, chosen per operation in
#        scripts/check_api.toml), which passes a 400 only when all it says is what no schema can
#        express: an id that names no row, a unique set another row holds, a runner rule that
#        depends on the saved runner, or a numeric bound on a decimal sent as a string.
# Run from anywhere: bash scripts/check_api.sh. SCHEMATHESIS_MAX_EXAMPLES bounds the cases per
# operation (default 10); further arguments go to `schemathesis run` (e.g. --include-path).
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
# A ready model version, so the fuzzer's model-version operations reach one (scripts/check_api.toml
# names its id).
python manage.py shell --no-imports -c '
import datetime
from predictions.models import ModelVersion
ModelVersion.objects.create(
    algorithm=ModelVersion.Algorithm.LOGIT,
    train_until=datetime.date(2025, 12, 31),
    status=ModelVersion.Status.READY,
    metrics={"log_loss": 2.1},
)
'
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
if ! PYTHONPATH="$repo_root/scripts" SCHEMATHESIS_HOOKS=check_api_hooks \
    schemathesis --config-file "$repo_root/scripts/check_api.toml" \
    run "http://127.0.0.1:$port/api/schema/" \
    --wait-for-schema 60 \
    --header "Authorization:Token $token" \
    --exclude-path /api/v1/tokens/revoke/ \
    --exclude-path /api/v1/tokens/revoke-all/ \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-10}" \
    --seed 1 \
    --workers 1 \
    --request-timeout 30 \
    "$@"; then
    echo "check_api: schemathesis failed; the server's log:" >&2
    grep -E "Traceback|Error|\" 5[0-9][0-9] " "$scratch/server.log" | tail -40 >&2 || true
    exit 1
fi
echo "check_api: all checks passed"
