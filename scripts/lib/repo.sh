# Sourced first by every script here (after `set -euo pipefail`): the repository's root as the
# working folder and in `repo_root`, and the project's files as a Docker build context holds them.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

# project_files_copy DEST: the tracked files and the untracked ones git does not ignore (so no
# .venv, .env, media, db.sqlite3 or staticfiles), as the image gets them, into the folder DEST.
project_files_copy() {
    git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' path; do
            if [[ -e "$path" ]]; then printf '%s\0' "$path"; fi
        done \
        | tar --null --files-from=- -cf - \
        | tar -xf - -C "$1"
}
