#!/usr/bin/env bash
# The database restore drill, locally (docs/operations.md, "Restore the database"):
#   1. a private PostgreSQL cluster stands in for production: migrate, seed_demo, train a model;
#   2. pg_dump -Fc of it, as a managed backup would be;
#   3. a second, fresh cluster stands in for the new managed cluster: restore into an empty
#      database, run migrate against it, compare the row count of every table with the source;
#   4. gunicorn serves the restored database: readiness 200, a member logs in through the API and
#      reads race cards.
# Prints the time of each step; exits non-zero on any difference or failed check. Everything runs
# on 127.0.0.1 in a temporary folder that is removed at the end, servers included.
#   bash scripts/restore_drill.sh            (ports: DRILL_PG_PORT=56432 and +1, DRILL_WEB_PORT=56080)
set -euo pipefail

# shellcheck source=lib/repo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/repo.sh"
python="${PYTHON:-$repo_root/.venv/bin/python}"
gunicorn="$(dirname "$python")/gunicorn"
source_port="${DRILL_PG_PORT:-56432}"
restore_port="$((source_port + 1))"
web_port="${DRILL_WEB_PORT:-56080}"

work="$(mktemp -d)"
chmod 755 "$work"
web_pid=""
# initdb and postgres refuse to run as root; CI runs as root, a laptop as its user.
as_pg=()
if [[ "$(id -u)" == 0 ]]; then
    as_pg=(runuser -u postgres --)
fi

cleanup() {
    if [[ -n "$web_pid" ]]; then
        kill "$web_pid" 2>/dev/null || true
        wait "$web_pid" 2>/dev/null || true
    fi
    for cluster in source restore; do
        if [[ -f "$work/$cluster/postmaster.pid" ]]; then
            "${as_pg[@]}" pg_ctl -D "$work/$cluster" -m immediate stop >/dev/null 2>&1 || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

step_started=0
declare -a timings=()
step() {
    step_started="$(date +%s.%N)"
    echo "== $1"
    current_step="$1"
}
done_step() {
    local seconds
    seconds="$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" \
        "$step_started" "$(date +%s.%N)")"
    timings+=("$(printf '%-50s %7s s' "$current_step" "$seconds")")
}

start_cluster() {  # name port
    local dir="$work/$1"
    mkdir -p "$dir" "$work/sock-$1"
    if [[ ${#as_pg[@]} -gt 0 ]]; then
        chown postgres "$dir" "$work/sock-$1"
    fi
    "${as_pg[@]}" initdb -D "$dir" -U postgres --auth=trust --encoding=UTF8 --no-instructions \
        >/dev/null
    # A throwaway cluster: durability settings off, so the drill measures the restore, not fsync.
    "${as_pg[@]}" pg_ctl -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $2 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/sock-$1 -c fsync=off -c full_page_writes=off" \
        start >/dev/null
}

# The app as production runs it, minus Redis (tasks run in-process) and with files in the drill.
export DJANGO_SETTINGS_MODULE=hrp_site.settings DJANGO_DEBUG=false DJANGO_LOG_FORMAT=plain
export DJANGO_SECRET_KEY="restore-drill-$(date +%s)-not-a-secret" DJANGO_ALLOWED_HOSTS=127.0.0.1
export DJANGO_MEDIA_ROOT="$work/media" DJANGO_API_NUM_PROXIES=0 DJANGO_LOG_LEVEL=WARNING
# Static files are the image's business (collectstatic); the drill serves the API only.
export PYTHONWARNINGS="ignore:No directory at"
unset REDIS_URL CELERY_TASK_ALWAYS_EAGER SENTRY_DSN
source_url="postgres://postgres@127.0.0.1:$source_port/hrp"
restore_url="postgres://postgres@127.0.0.1:$restore_port/hrp"
psql_source=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$source_port" -U postgres)
psql_restore=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$restore_port" -U postgres)

step "start the source cluster (port $source_port)"
start_cluster source "$source_port"
"${psql_source[@]}" -d postgres -c "CREATE DATABASE hrp"
done_step

step "populate: migrate, seed_demo, train_model"
DATABASE_URL="$source_url" "$python" manage.py migrate --no-input -v0
DATABASE_URL="$source_url" "$python" manage.py seed_demo --history-days 30 --days-ahead 1 \
    --allow-without-debug -v0
train_until="$(date -u -d yesterday +%F)"
DATABASE_URL="$source_url" "$python" manage.py train_model --algorithm logit \
    --train-until "$train_until" --activate -v0 >/dev/null
done_step

step "pg_dump -Fc (the backup)"
pg_dump -Fc -h 127.0.0.1 -p "$source_port" -U postgres -d hrp -f "$work/hrp.dump"
dump_bytes="$(stat -c %s "$work/hrp.dump")"
done_step

step "start a fresh cluster (port $restore_port)"
start_cluster restore "$restore_port"
"${psql_restore[@]}" -d postgres -c "CREATE DATABASE hrp"
done_step

step "pg_restore into the empty database"
# --no-owner/--no-acl: a new managed cluster has its own roles; the app's user owns what it makes.
pg_restore --no-owner --no-acl --exit-on-error -h 127.0.0.1 -p "$restore_port" -U postgres \
    -d hrp "$work/hrp.dump"
done_step

step "migrate against the restored database"
DATABASE_URL="$restore_url" "$python" manage.py migrate --no-input -v0
# Nothing left to apply: the backup carried the whole migration history.
DATABASE_URL="$restore_url" "$python" manage.py migrate --check --no-input -v0
done_step

step "compare row counts of every table"
# Every table in the public schema: the HRP apps' and the ones Django, knox and axes keep. Beside
# each count, a digest of the rows' text, so a row restored with other contents shows up too.
count_rows() {  # psql command...
    local tables
    tables="$("$@" -d hrp -tA -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")"
    local query=""
    for table in $tables; do
        query+="${query:+ UNION ALL }SELECT '$table', count(*),"
        query+=" md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"$table\" t"
    done
    "$@" -d hrp -tA -F ' ' -c "$query ORDER BY 1"
}
count_rows "${psql_source[@]}" >"$work/source.counts"
count_rows "${psql_restore[@]}" >"$work/restore.counts"
if ! diff -u "$work/source.counts" "$work/restore.counts"; then
    echo "restore_drill: the restored database differs from the source (above)" >&2
    exit 1
fi
tables="$(wc -l <"$work/source.counts")"
rows="$(awk '{ n += $2 } END { print n }' "$work/source.counts")"
hrp_tables="$(grep -cE '^(accounts|races|predictions)_' "$work/source.counts")"
if [[ "$hrp_tables" -eq 0 || "$rows" -eq 0 ]]; then
    echo "restore_drill: no HRP rows to compare (populate step wrote nothing?)" >&2
    exit 1
fi
done_step

step "serve the restored database (gunicorn on $web_port)"
DATABASE_URL="$restore_url" "$gunicorn" hrp_site.wsgi:application --bind "127.0.0.1:$web_port" \
    --workers 1 --threads 2 --timeout 60 --log-level warning &
web_pid=$!
base="http://127.0.0.1:$web_port"
for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$base/health/live/" 2>/dev/null; then break; fi
    if ! kill -0 "$web_pid" 2>/dev/null; then echo "restore_drill: gunicorn died" >&2; exit 1; fi
    sleep 0.5
done
ready="$(curl -sS -w ' %{http_code}' "$base/health/ready/")"
echo "readiness: $ready"
[[ "$ready" == '{"status": "ok"} 200' ]]
token="$(curl -fsS -X POST -u demo-member:hrp-demo-member "$base/api/v1/tokens/" \
    | "$python" -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
races="$(curl -fsS -H "Authorization: Token $token" "$base/api/v1/races/" \
    | "$python" -c 'import json, sys; print(json.load(sys.stdin)["count"])')"
restored_races="$(awk '$1 == "races_race" { print $2 }' "$work/source.counts")"
echo "API: demo-member logged in; /api/v1/races/ counts $races races (source: $restored_races)"
[[ "$races" == "$restored_races" ]]
providers="$(curl -sS -o /dev/null -w '%{http_code}' "$base/api/providers")"
echo "/api/providers: $providers"
[[ "$providers" == 200 ]]
done_step

echo
echo "restore_drill: passed. $tables tables, $rows rows compared (counts and digests);" \
    "dump $dump_bytes bytes"
printf '%s\n' "${timings[@]}"
