# Sourced by build.sh and smoke.sh (both define log()): installs the Debian packages
# that are missing, and only those, so a re-run never touches apt.
ensure_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The system lists may be stale or empty on a fresh machine: update and retry once.
    { apt-get install -y --no-install-recommends "${missing[@]}" >&2; } ||
        { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
}
