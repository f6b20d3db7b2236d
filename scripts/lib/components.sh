# Shared by check_runtime.sh and check_image.sh (sourced, after `set -euo pipefail` and `cd` to the
# repository): background components in process groups of their own, bounded waits on them, a
# private redis-server, a database of the machine's PostgreSQL, and the clean-up of all of these.
# The sourcing script sets `scratch` (a temporary folder for logs) and `database` (a name) first;
# it may define `cleanup_more`, run by the clean-up after the components stop and before the
# database is dropped.

check_name="$(basename "$0" .sh)"
pgids=()
names=()
database_created=""

cleanup() {
    local pgid
    for pgid in "${pgids[@]}"; do
        kill -TERM -- "-$pgid" 2>/dev/null || true
    done
    for pgid in "${pgids[@]}"; do
        # Bounded: a group still there after 15 s is killed.
        for _ in $(seq 30); do
            kill -0 -- "-$pgid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL -- "-$pgid" 2>/dev/null || true
        wait "$pgid" 2>/dev/null || true
    done
    if declare -F cleanup_more >/dev/null; then
        cleanup_more
    fi
    if [[ -n "$database_created" ]]; then
        dropdb -h 127.0.0.1 -U postgres --if-exists --force "$database" || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

fail() {
    echo "$check_name: $1" >&2
    local log
    for log in "$scratch"/*.log; do
        [[ -f "$log" ]] || continue
        echo "--- $(basename "$log") (last 30 lines)" >&2
        tail -30 "$log" >&2
    done
    exit 1
}

# started NAME: record the background process group just started (setsid made $! its leader:
# a background job of a script is no group leader, so setsid execs without forking).
started() {
    pgids+=($!)
    names+=("$1")
}

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND every second until it succeeds; fail at
# once if a started process has exited.
wait_for() {
    local seconds="$1" description="$2"
    shift 2
    local deadline=$((SECONDS + seconds)) i
    until "$@" >/dev/null 2>&1; do
        for i in "${!pgids[@]}"; do
            if ! kill -0 "${pgids[$i]}" 2>/dev/null; then
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
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# app_spec_command NAME: the run_command of the component called NAME in app-spec.yaml.
app_spec_command() {
    awk -v want="$1" '
        /^  - name: / { name = $3 }
        /^    run_command: / && name == want { sub(/^    run_command: /, ""); print; exit }
    ' app-spec.yaml
}

# component_commands WHERE: worker_command, beat_command and migrate_command from app-spec.yaml;
# fail unless they and web_command (the caller's, read from WHERE) are all there.
component_commands() {
    worker_command="$(app_spec_command worker)"
    beat_command="$(app_spec_command beat)"
    migrate_command="$(app_spec_command migrate)"
    local command
    for command in web_command worker_command beat_command migrate_command; do
        if [[ -z "${!command}" ]]; then
            fail "could not read $command from $1 or app-spec.yaml"
        fi
    done
}

# redis_start: a private redis-server on a free port of 127.0.0.1 (sets redis_port), answering.
redis_start() {
    redis_port="$(free_port)"
    setsid redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
        --dir "$scratch" >"$scratch/redis.log" 2>&1 &
    started redis-server
    wait_for 10 "private redis-server on $redis_port" redis-cli -p "$redis_port" ping
}

# database_create: the database `database` on the machine's PostgreSQL, dropped by the clean-up.
database_create() {
    createdb -h 127.0.0.1 -U postgres "$database"
    database_created=1
}

# beat_schedule_seed FILE: the command (for sh, in the component's environment) that writes a beat
# schedule in FILE saying the refresh last ran a day ago, so beat sends it at once: a fresh
# schedule waits a whole interval before its first run.
beat_schedule_seed() {
    printf '%s' "python -c '
import datetime, sys
from celery.beat import PersistentScheduler
from hrp_site.celery import app
scheduler = PersistentScheduler(app=app, schedule_filename=sys.argv[1])
entry = scheduler.schedule[\"refresh-declared-predictions\"]
entry.last_run_at = entry.default_now() - datetime.timedelta(days=1)
scheduler.close()
' $1"
}

# beat_sent_wait: until beat (its log in $scratch/beat.log) has sent the scheduled refresh.
beat_sent_wait() {
    wait_for 60 "beat sending refresh-declared-predictions" \
        grep -q "Sending due task refresh-declared-predictions" "$scratch/beat.log"
}
