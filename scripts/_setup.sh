# Shared set-up for scripts/demo and scripts/test: system packages, uv, Python deps.
# Sourced, not run. Installs only what is missing, so a second run is quick.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_ensure() {
    # apt_ensure PACKAGE... : install the Debian packages that are not installed yet.
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

uv_ensure() {
    if ! command -v uv >/dev/null 2>&1; then
        echo "==> installing uv"
        python3 -m pip install --quiet uv || python3 -m pip install --quiet --break-system-packages uv
        hash -r
    fi
    if ! command -v uv >/dev/null 2>&1; then
        export PATH="$HOME/.local/bin:$PATH"
    fi
    echo "==> Python packages from uv.lock"
    uv sync --frozen --quiet --compile-bytecode
}
