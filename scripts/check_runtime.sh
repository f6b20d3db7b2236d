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

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
scratch="$(mktemp -d)"
database="hrp_check_runtime_$$"
pids=()
names=()
database_created=""

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        # Bounded: a process that ignores SIGTERM for 15 s is killed.
        for _ in $(seq 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "$database_created" ]]; then
        dropdb -h 127.0.0.1 -U postgres --if-exists --force "$database" || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

fail() {
    echo "check_runtime: $1" >&2
    local log
    for log in "$scratch"/*.log; do
        [[ -f "$log" ]] || continue
        echo "--- $(basename "$log") (last 30 lines)" >&2
        tail -30 "$log" >&2
    done
    exit 1
}

# started NAME: record the background process just started, for the waits and the clean-up.
started() {
    pids+=($!)
    names+=("$1")
}

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND every second until it succeeds; fail at
# once if a started process has exited.
wait_for() {
    local seconds="$1" description="$2"
    shift 2
    local deadline=$((SECONDS + seconds)) i
    until "$@" >/dev/null 2>&1; do
        for i in "${!pids[@]}"; do
            if ! kill -0 "${pids[$i]}" 2>/dev/null; then
                fail "$description: ${names[$i]} exited"
            fi
        done
        if ((SECONDS >= deadline)); then
            fail "$description: not within ${seconds}s"
        fi
        sleep 1
    done
}

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# app_spec_command NAME: the run_command of the component called NAME in app-spec.yaml.
app_spec_command() {
    awk -v want="$1" '
        /^  - name: / { name = $3 }
        /^    run_command: / && name == want { sub(/^    run_command: /, ""); print; exit }
    ' app-spec.yaml
}

# The Dockerfile's CMD: the command inside its sh -c.
web_command="$(sed -n 's/^CMD \["sh", "-c", "\(.*\)"\]$/\1/p' Dockerfile)"
worker_command="$(app_spec_command worker)"
beat_command="$(app_spec_command beat)"
migrate_command="$(app_spec_command migrate)"
for command in web_command worker_command beat_command migrate_command; do
    if [[ -z "${!command}" ]]; then
        fail "could not read $command from the Dockerfile or app-spec.yaml"
    fi
done

start=$SECONDS
echo "== virtual environment from requirements.txt alone ($python)"
"$python" -m venv "$scratch/venv"
# No byte-compiling of every installed module: only what the components import gets compiled.
"$scratch/venv/bin/pip" install --quiet --disable-pip-version-check --no-compile -r requirements.txt
echo "   $((SECONDS - start))s"

# The project's files as the image gets them (no .venv, .env, media or staticfiles).
mkdir "$scratch/app"
git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' path; do
        if [[ -e "$path" ]]; then printf '%s\0' "$path"; fi
    done \
    | tar --null --files-from=- -cf - \
    | tar -xf - -C "$scratch/app"

redis_port="$(free_port)"
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --dir "$scratch" >"$scratch/redis.log" 2>&1 &
started redis-server
wait_for 10 "private redis-server on $redis_port" redis-cli -p "$redis_port" ping

createdb -h 127.0.0.1 -U postgres "$database"
database_created=1

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
# Started in the background, $! is the component itself: env and sh exec into it.
in_app() {
    "${run_env[@]}" sh -c "$1"
}

echo "== migrate: $migrate_command"
in_app "$migrate_command" >"$scratch/migrate.log" 2>&1 || fail "migrate failed"

echo "== web: $web_command"
# Only loopback here; the image binds every interface.
"${run_env[@]}" sh -c "${web_command/0.0.0.0/127.0.0.1}" >"$scratch/web.log" 2>&1 &
started web
wait_for 60 "web /healthz/ 200" \
    curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$web_port/healthz/"
echo "   /healthz/ 200"

echo "== worker: $worker_command"
"${run_env[@]}" sh -c "exec $worker_command" >"$scratch/worker.log" 2>&1 &
started worker
wait_for 90 "worker answering celery inspect ping" \
    in_app "celery -A hrp_site inspect ping --timeout 5"
echo "   inspect ping answered"

echo "== beat: $beat_command"
# A fresh schedule waits a whole interval before its first run; this one says the refresh last ran
# a day ago, so beat sends it at once. The same interpreter writes it that beat reads it with.
schedule="$scratch/celerybeat-schedule"
in_app "python -c '
import datetime, sys
from celery.beat import PersistentScheduler
from hrp_site.celery import app
scheduler = PersistentScheduler(app=app, schedule_filename=sys.argv[1])
entry = scheduler.schedule[\"refresh-declared-predictions\"]
entry.last_run_at = entry.default_now() - datetime.timedelta(days=1)
scheduler.close()
' $schedule" >"$scratch/schedule.log" 2>&1 || fail "could not write the beat schedule"
# The schedule file is the only part of the command that differs: /tmp is shared on this machine.
"${run_env[@]}" sh -c "exec ${beat_command//\/tmp\/celerybeat-schedule/$schedule}" >"$scratch/beat.log" 2>&1 &
started beat
wait_for 60 "beat sending refresh-declared-predictions" \
    grep -q "Sending due task refresh-declared-predictions" "$scratch/beat.log"
echo "   beat sent refresh-declared-predictions"
wait_for 60 "worker running the refresh beat sent" \
    grep -qE "Task predictions.tasks.refresh_predictions_task\[[^]]+\] succeeded" \
    "$scratch/worker.log"
echo "   the worker ran it"

echo "check_runtime: all checks passed in $((SECONDS - start))s"
