#!/usr/bin/env bash
# The real image, for CI (once per run, not per test): build the Dockerfile with buildah and run
# every App Platform component from it as its user (uid 10001), production settings:
#   1. base: a stand-in for python:3.11-slim, since no image registry is reachable: Debian bookworm
#      by debootstrap with Debian's python3.11, `python` and `pip` on PATH in /usr/local/bin;
#   2. build: `buildah bud` of the Dockerfile as it is, on that base;
#   3. run: the migrate job's command, demo data, then web (the image's CMD) answering /healthz/
#      and a page, the worker answering `celery inspect ping` and training a LightGBM version
#      until it is ready, and beat sending the scheduled refresh that writes its predictions.
# PostgreSQL is the machine's (127.0.0.1:5432, a database created and dropped here); Redis is a
# private redis-server on a free port; the image shares the host's network.
# The base's root filesystem is cached as a tarball in HRP_CI_CACHE (default /var/cache/hrp-ci),
# keyed by a hash of its recipe, and buildah's storage (vfs) with its layer cache lives there too,
# so a second run on the same machine skips debootstrap and unchanged build steps. An empty
# cache works, only slower. Needs root, buildah and debootstrap (.ci/run installs them).
# Run from anywhere: bash scripts/check_image.sh.
set -euo pipefail

# shellcheck source=lib/repo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/repo.sh"

cache_dir="${HRP_CI_CACHE:-/var/cache/hrp-ci}"
# buildah's storage, next to the base's tarball; its run-time state (locks) on tmpfs, one per root.
storage=(
    --root "$cache_dir/containers"
    --runroot "/run/hrp-ci/$(printf '%s' "$cache_dir" | sha256sum | cut -c1-8)"
    --storage-driver vfs
)
base_image=docker.io/library/python:3.11-slim
image=localhost/hrp:ci
suite=bookworm
mirror=http://deb.debian.org/debian
base_packages=(ca-certificates netbase tzdata python3.11 python3.11-venv)

scratch="$(mktemp -d)"
database="hrp_check_image_$$"
container="hrp-check-image-$$"
container_created=""
proc_mounted=""

bah() {
    buildah "${storage[@]}" "$@"
}

# shellcheck source=lib/components.sh
source scripts/lib/components.sh

# Run by the clean-up once the components have stopped.
cleanup_more() {
    if [[ -n "$proc_mounted" ]]; then
        umount "$proc_mounted" || true
    fi
    if [[ -n "$container_created" ]]; then
        bah rm "$container" >/dev/null || true
    fi
}

start=$SECONDS
phase_start=$SECONDS
# phase NAME: print the time of the phase that just ended.
phase() {
    echo "   [$1: $((SECONDS - phase_start))s]"
    phase_start=$SECONDS
}

# --- 1. the stand-in base image ------------------------------------------------------------------

# make_rootfs DIR: python:3.11-slim's essentials on Debian bookworm. The official image builds
# CPython into /usr/local; here a virtual environment over Debian's python3.11 has that prefix, so
# `python`, `pip` and the scripts pip installs resolve from /usr/local/bin as they do there, and
# Debian's "externally managed" guard does not apply to it.
make_rootfs() {
    local dir="$1"
    debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$scratch/debootstrap.log" 2>&1 \
        || fail "debootstrap failed"
    rm -f "$dir/etc/apt/sources.list"
    cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    mount -t proc proc "$dir/proc"
    proc_mounted="$dir/proc"
    # apt, not debootstrap --include, so the packages' dependencies are resolved in full.
    chroot "$dir" apt-get update -qq >"$scratch/apt.log" 2>&1 || fail "apt-get update failed"
    chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${base_packages[@]}" >>"$scratch/apt.log" 2>&1 \
        || fail "apt-get install ${base_packages[*]} failed"
    chroot "$dir" python3.11 -m venv /usr/local
    chroot "$dir" apt-get clean
    umount "$dir/proc"
    proc_mounted=""
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log "$dir/etc/resolv.conf" "$dir/etc/hostname"
}

base_key="$(
    {
        declare -f make_rootfs
        printf '%s\n' "$suite" "$mirror" "${base_packages[@]}"
    } | sha256sum | cut -c1-16
)"
base_tarball="$cache_dir/python-3.11-slim-$suite-$base_key.tar"

echo "== base: $base_image (stand-in, recipe $base_key)"
mkdir -p "$cache_dir"
stored_key="$(bah inspect --type image --format '{{index .OCIv1.Config.Labels "org.hrp.ci.base"}}' \
    "$base_image" 2>/dev/null || true)"
if [[ "$stored_key" == "$base_key" ]]; then
    echo "   already in buildah's storage"
else
    if [[ -f "$base_tarball" ]]; then
        echo "   root filesystem from the cache: $base_tarball"
    else
        echo "   debootstrap $suite with ${base_packages[*]}"
        make_rootfs "$scratch/rootfs"
        tar --numeric-owner -C "$scratch/rootfs" -cf "$base_tarball.$$" .
        mv "$base_tarball.$$" "$base_tarball"
        find "$cache_dir" -maxdepth 1 -name 'python-3.11-slim-*.tar' ! -path "$base_tarball" -delete
        rm -rf "$scratch/rootfs"
    fi
    base_container="$(bah from scratch)"
    base_root="$(bah mount "$base_container")"
    tar --numeric-owner -C "$base_root" -xpf "$base_tarball"
    bah umount "$base_container" >/dev/null
    # The official image's environment and default command.
    bah config \
        --env PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
        --env LANG=C.UTF-8 \
        --cmd python3 \
        --label "org.hrp.ci.base=$base_key" \
        "$base_container"
    bah commit --quiet --rm "$base_container" "$base_image" >/dev/null
fi
phase base

# --- 2. the image --------------------------------------------------------------------------------

echo "== build: buildah bud --isolation chroot --pull=never --layers -t $image ."
# --layers keeps each step's result in the cache, so an unchanged requirements.txt skips the
# package installs on the next run. This machine reaches PyPI through a TLS-inspecting proxy whose
# certificate authority only the host trusts: the build's RUN steps borrow the host's bundle
# (Debian's pip reads that path); the image keeps its own.
host_bundle=/etc/ssl/certs/ca-certificates.crt
bah bud --isolation chroot --pull=never --layers --force-rm --quiet \
    --volume "$host_bundle:$host_bundle:ro" \
    -t "$image" . >"$scratch/build.log" 2>&1 \
    || fail "the image did not build"
# vfs stores every layer as a full copy of the tree (about 0.8 GB here), so drop the cached steps
# of earlier builds that this one did not reuse: an image whose layers are not a prefix of the new
# image's. The steps this build reused or made stay for the next run.
diff_ids() {
    bah inspect --type image --format '{{range .OCIv1.RootFS.DiffIDs}}{{.}} {{end}}' "$1" 2>/dev/null
}
current_layers="$(diff_ids "$image")"
keep="$(bah images --noheading --quiet "$image"; bah images --noheading --quiet "$base_image")"
while read -r cached; do
    if grep -qx "$cached" <<<"$keep"; then
        continue
    fi
    # Removing an image also removes its untagged parents that nothing else uses, so some of
    # the listed ones are gone by their turn.
    layers="$(diff_ids "$cached")" || continue
    if [[ "$current_layers" != "$layers"* ]]; then
        bah rmi --force "$cached" >/dev/null 2>&1 || true
    fi
done < <(bah images --all --noheading --quiet)
phase build

# --- 3. the components, from the image ------------------------------------------------------------

echo "== run: web, worker and beat from $image"
user="$(bah inspect --type image --format '{{.OCIv1.Config.User}}' "$image")"
if [[ "$user" != "10001:10001" ]]; then
    fail "the image runs as '$user', not 10001:10001"
fi
# The image's own CMD for web (sh -c "exec gunicorn ..."); app-spec.yaml's for the others.
web_command="$(bah inspect --type image --format '{{index .OCIv1.Config.Cmd 2}}' "$image")"
component_commands "the image"

redis_start
database_create
sql() {
    psql -h 127.0.0.1 -U postgres -d "$database" -tAX -c "$1"
}

# One container, so the seeded beat schedule in its /tmp is the one beat reads. Each component
# gets what app-spec.yaml gives it, plus what this machine needs: no TLS in front, local hosts.
bah from --pull=never --quiet --name "$container" "$image" >/dev/null
container_created=1
web_port="$(free_port)"
run_flags=(
    --isolation chroot
    --user "$user"
    --env PORT="$web_port"
    --env DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database"
    --env REDIS_URL="redis://127.0.0.1:$redis_port/0"
    --env CELERY_TASK_ALWAYS_EAGER=false
    --env DJANGO_DEBUG=false
    --env DJANGO_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
    --env DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
    --env DJANGO_SECURE_SSL_REDIRECT=false
    --env DJANGO_MEDIA_ROOT=/app/media
)
# in_image COMMAND: COMMAND through sh in the container, as the image's user.
in_image() {
    bah run "${run_flags[@]}" "$container" -- sh -c "$1"
}
# start_in_image NAME COMMAND: a component in the background, in a process group of its own.
start_in_image() {
    setsid buildah "${storage[@]}" run "${run_flags[@]}" "$container" -- sh -c "$2" \
        >"$scratch/$1.log" 2>&1 &
    started "$1"
}
phase container

echo "   migrate: $migrate_command"
in_image "$migrate_command" >"$scratch/migrate.log" 2>&1 || fail "migrate failed"
in_image "python manage.py seed_demo --history-days 30 --days-ahead 1 --allow-without-debug" \
    >"$scratch/seed.log" 2>&1 || fail "seed_demo failed"
phase migrate-and-seed

echo "   web: $web_command"
start_in_image web "$web_command"
wait_for 60 "web /healthz/ 200" \
    curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$web_port/healthz/"
# A page through the templates and the static files collected into the image.
wait_for 30 "web /accounts/login/ 200" \
    curl -fsS --max-time 10 -o "$scratch/login.html" "http://127.0.0.1:$web_port/accounts/login/"
echo "   /healthz/ 200, /accounts/login/ 200"

echo "   worker: $worker_command"
start_in_image worker "exec $worker_command"
wait_for 90 "worker answering celery inspect ping" \
    in_image "celery -A hrp_site inspect ping --timeout 5"
echo "   inspect ping answered"
phase web-and-worker

echo "   training a LightGBM version"
version="$(in_image "python manage.py shell --no-imports -c '
from django.db import transaction
from predictions import selectors
from predictions.services.enqueue import model_version_enqueue_training
from predictions.services.versions import model_version_create
with transaction.atomic():
    version = model_version_create(algorithm=\"lightgbm\", train_until=selectors.last_settled_day())
    model_version_enqueue_training(version=version, activate=True)
print(version.pk)
'" 2>"$scratch/enqueue.log" | tail -1)" \
    || fail "no version was queued: $(tail -3 "$scratch/enqueue.log")"
[[ "$version" =~ ^[0-9]+$ ]] || fail "no version was queued: '$version'"
version_ready() {
    [[ "$(sql "SELECT status FROM predictions_modelversion WHERE id = $version")" == ready ]]
}
wait_for 600 "version $version ready" version_ready
phase train

echo "   beat: $beat_command"
# A fresh schedule waits a whole interval (5 min) before the first refresh; this one says the
# refresh last ran a day ago, so beat sends it at once, now that a version is ready.
in_image "$(beat_schedule_seed /tmp/celerybeat-schedule)" >"$scratch/schedule.log" 2>&1 \
    || fail "could not write the beat schedule"
start_in_image beat "exec $beat_command"
beat_sent_wait
predictions_written() {
    [[ "$(sql "SELECT count(*) > 0 FROM predictions_prediction WHERE model_version_id = $version")" == t ]]
}
wait_for 300 "predictions of version $version" predictions_written
predictions="$(sql "SELECT count(*) FROM predictions_prediction WHERE model_version_id = $version")"
echo "   beat sent the refresh; the worker wrote $predictions predictions of version $version"
phase refresh

echo "check_image: all checks passed in $((SECONDS - start))s"
