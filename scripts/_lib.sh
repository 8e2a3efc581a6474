# Shared by the scripts in this folder. Sourced, not run.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Everything built or downloaded lives here, outside the repository.
SES_CACHE="${SES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/school-emergency-share}"
# Each environment runs on the Python its Home Assistant needs, both cached here:
# - minimum (Home Assistant 2025.4.4): Python 3.13 from Debian trixie's binary
#   packages, unpacked with trixie's C libraries into one folder.
# - current (Home Assistant 2026.10.4, which needs Python >= 3.14.2): Python 3.14
#   from Debian forky's binary packages, the same way (no source package of 3.14
#   is published for forky or sid).
# Unpacking takes seconds where building 3.13 from source took 5-8 minutes.
PYTHON_DEBIAN_MIRROR="${SES_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
MINIMUM_PYTHON_SERIES="3.13"
MINIMUM_PYTHON_SUITE="trixie"
MINIMUM_PYTHON_PREFIX="$SES_CACHE/python-$MINIMUM_PYTHON_SERIES-$MINIMUM_PYTHON_SUITE"
MINIMUM_PYTHON="$MINIMUM_PYTHON_PREFIX/usr/bin/python$MINIMUM_PYTHON_SERIES"
CURRENT_PYTHON_SERIES="3.14"
CURRENT_PYTHON_SUITE="forky"
CURRENT_PYTHON_PREFIX="$SES_CACHE/python-$CURRENT_PYTHON_SERIES-$CURRENT_PYTHON_SUITE"
CURRENT_PYTHON="$CURRENT_PYTHON_PREFIX/usr/bin/python$CURRENT_PYTHON_SERIES"
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

# The interpreter an environment is built on.
env_python() {
    case "$1" in
    minimum) printf '%s' "$MINIMUM_PYTHON" ;;
    current) printf '%s' "$CURRENT_PYTHON" ;;
    *) die "no environment '$1' (environments: ${ENVIRONMENTS[*]})" ;;
    esac
}

# The virtual environment for a lock file; a changed lock file gets a new one.
env_dir() {
    local name="$1" lock="$REPO_ROOT/requirements/$1.txt"
    [ -f "$lock" ] || die "no lock file $lock (environments: ${ENVIRONMENTS[*]})"
    local digest
    # The interpreter's path counts too: another Python, another environment.
    digest="$({ cat "$lock" "$REPO_ROOT/requirements/common.in"; env_python "$name"; } |
        sha256sum | cut -c1-12)"
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
