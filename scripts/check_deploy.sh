#!/usr/bin/env bash
# Offline checks of the deployment artefacts, for CI and before a deploy:
#   1. hadolint on the Dockerfile (warnings fail);
#   2. the App Platform spec against DigitalOcean's schema and cross-field rules (warnings fail);
#   3. the image's collectstatic step, run on a copy of the build context with no database.
# Run from anywhere: bash scripts/check_deploy.sh. HRP_SHARED_DIR (default ../shared, relative to
# the repository root) holds tools/do-app-spec.
set -euo pipefail

# shellcheck source=lib/repo.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/repo.sh"
if [[ -d .venv/bin ]]; then
    PATH="$repo_root/.venv/bin:$PATH"
fi

shared_dir="${HRP_SHARED_DIR:-../shared}"
spec_tools="$shared_dir/tools/do-app-spec"
if [[ ! -f "$spec_tools/validate_app_spec.py" ]]; then
    echo "check_deploy: no app-spec validator in $spec_tools (set HRP_SHARED_DIR)" >&2
    exit 1
fi

echo "== hadolint Dockerfile"
hadolint -t warning Dockerfile

echo "== validate app-spec.yaml"
python "$spec_tools/validate_app_spec.py" "$spec_tools/app_spec.strict.schema.json" \
    app-spec.yaml --werror

echo "== collectstatic without a database"
# The copy stands in for the Docker build context: the project's files without .venv, .env,
# db.sqlite3 or staticfiles (all git-ignored and .dockerignore'd), so STATIC_ROOT lands in it.
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
project_files_copy "$context"
# The same command as the Dockerfile's RUN, in an environment as bare as the build's, with a
# database URL that refuses connections: any database access fails the check.
(
    cd "$context"
    env -i PATH="$PATH" HOME="$context" PYTHONDONTWRITEBYTECODE=1 \
        DATABASE_URL=postgres://nobody@127.0.0.1:1/none \
        DJANGO_SECRET_KEY=build-only-collectstatic-key \
        python manage.py collectstatic --no-input
)
if [[ ! -f "$context/staticfiles/staticfiles.json" ]]; then
    echo "check_deploy: collectstatic wrote no manifest (staticfiles/staticfiles.json)" >&2
    exit 1
fi

echo "check_deploy: all checks passed"
