# Shared by the scripts in this folder. Sourced, not run.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Everything built or downloaded lives here, outside the repository.
SES_CACHE="${SES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/school-emergency-share}"
PYTHON_VERSION="3.13.5"
# Debian trixie packages Python 3.13.5, the newest Python this machine can build
# without a network beyond the package registries; Home Assistant 2026.2 needs it.
PYTHON_DEBIAN_MIRROR="${SES_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PYTHON_PREFIX="$SES_CACHE/python-$PYTHON_VERSION"
PYTHON_BIN="$PYTHON_PREFIX/bin/python3.13"
TOOLS_DIR="$SES_CACHE/tools"
UV_BIN="$TOOLS_DIR/bin/uv"
export UV_CACHE_DIR="${UV_CACHE_DIR:-$SES_CACHE/uv-cache}"
ENVIRONMENTS=(minimum current)

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() {
    printf '\033[31merror:\033[0m %s\n' "$*" >&2
    exit 1
}

# The virtual environment for a lock file; a changed lock file gets a new one.
env_dir() {
    local name="$1" lock="$REPO_ROOT/requirements/$1.txt"
    [ -f "$lock" ] || die "no lock file $lock (environments: ${ENVIRONMENTS[*]})"
    local digest
    digest="$(cat "$lock" "$REPO_ROOT/requirements/common.in" | sha256sum | cut -c1-12)"
    printf '%s/venvs/%s-%s' "$SES_CACHE" "$name" "$digest"
}

# Which environments a command should use: SES_ENV=minimum|current|all (default all).
selected_envs() {
    local choice="${SES_ENV:-all}"
    case "$choice" in
    all) printf '%s\n' "${ENVIRONMENTS[@]}" ;;
    minimum | current) printf '%s\n' "$choice" ;;
    *) die "SES_ENV must be minimum, current or all, not '$choice'" ;;
    esac
}

# Run a command as root: directly, through sudo, or explain what is needed.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "needs root to run: $*"
    fi
}
