#!/usr/bin/env bash
# Every component starts from requirements.txt alone, for CI: a fresh virtual environment with
# nothing but the runtime requirements (the dev requirements can hide a missing one), then
#   1. the migrate job's run_command (app-spec.yaml) on a database of its own;
#   2. web: the Dockerfile's gunicorn command line answers /healthz/ with 200;
#   3. worker: its app-spec.yaml run_command answers `celery inspect ping`;
#   4. beat: its app-spec.yaml run_command sends a scheduled task and the worker runs it.
# PostgreSQL is the machine's (127.0.0.1:5432, a database created and dropped here); Redis is a
# private redis-server on a free port. Production settings (DJANGO_DEBUG=false) except HTTPS.
# Run from anywhere: bash scripts/check_runtime.sh. PYTHON picks the interpreter (python3.11).
set -euo pipefail

# shellcheck source=lib/repo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/repo.sh"

python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
scratch="$(mktemp -d)"
database="hrp_check_runtime_$$"
# shellcheck source=lib/components.sh
source scripts/lib/components.sh

# The Dockerfile's CMD: the command inside its sh -c.
web_command="$(sed -n 's/^CMD \["sh", "-c", "\(.*\)"\]$/\1/p' Dockerfile)"
component_commands "the Dockerfile"

start=$SECONDS
echo "== virtual environment from requirements.txt alone ($python)"
"$python" -m venv "$scratch/venv"
# No byte-compiling of every installed module: only what the components import gets compiled.
"$scratch/venv/bin/pip" install --quiet --disable-pip-version-check --no-compile -r requirements.txt
echo "   $((SECONDS - start))s"

# The project's files as the image gets them.
mkdir "$scratch/app"
project_files_copy "$scratch/app"

redis_start
database_create

web_port="$(free_port)"
# Nothing from the caller's environment: only what a deployed component is given.
run_env=(
    env -i -C "$scratch/app"
    PATH="$scratch/venv/bin:/usr/local/bin:/usr/bin:/bin"
    HOME="$scratch"
    LANG=C.UTF-8
    PYTHONUNBUFFERED=1
    PORT="$web_port"
    WEB_CONCURRENCY=2
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database"
    REDIS_URL="redis://127.0.0.1:$redis_port/0"
    CELERY_TASK_ALWAYS_EAGER=false
    DJANGO_DEBUG=false
    DJANGO_SECRET_KEY="$("$python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
    DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
    DJANGO_SECURE_SSL_REDIRECT=false
    DJANGO_MEDIA_ROOT="$scratch/media"
)
# in_app COMMAND: COMMAND through sh in the copy of the project, with the component environment.
# Started in the background under setsid, $! is the component itself: env and sh exec into it.
in_app() {
    "${run_env[@]}" sh -c "$1"
}

echo "== migrate: $migrate_command"
in_app "$migrate_command" >"$scratch/migrate.log" 2>&1 || fail "migrate failed"

echo "== web: $web_command"
# Only loopback here; the image binds every interface.
setsid "${run_env[@]}" sh -c "${web_command/0.0.0.0/127.0.0.1}" >"$scratch/web.log" 2>&1 &
started web
wait_for 60 "web /healthz/ 200" \
    curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$web_port/healthz/"
echo "   /healthz/ 200"

echo "== worker: $worker_command"
setsid "${run_env[@]}" sh -c "exec $worker_command" >"$scratch/worker.log" 2>&1 &
started worker
wait_for 90 "worker answering celery inspect ping" \
    in_app "celery -A hrp_site inspect ping --timeout 5"
echo "   inspect ping answered"

echo "== beat: $beat_command"
# The same interpreter writes the schedule that beat reads it with.
schedule="$scratch/celerybeat-schedule"
in_app "$(beat_schedule_seed "$schedule")" >"$scratch/schedule.log" 2>&1 \
    || fail "could not write the beat schedule"
# The schedule file is the only part of the command that differs: /tmp is shared on this machine.
setsid "${run_env[@]}" sh -c "exec ${beat_command//\/tmp\/celerybeat-schedule/$schedule}" \
    >"$scratch/beat.log" 2>&1 &
started beat
beat_sent_wait
echo "   beat sent refresh-declared-predictions"
wait_for 60 "worker running the refresh beat sent" \
    grep -qE "Task predictions.tasks.refresh_predictions_task\[[^]]+\] succeeded" \
    "$scratch/worker.log"
echo "   the worker ran it"

echo "check_runtime: all checks passed in $((SECONDS - start))s"
