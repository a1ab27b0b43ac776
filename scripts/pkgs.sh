# Sourced by every heavy script (the Xen, toolstack and kernel builds, the QEMU runs).
# The caller defines log() and die(), and CACHE (the repository's .cache) before it
# calls setup_private_apt.
#
#   ensure_pkgs PKG...     installs the Debian packages that are missing, and only
#                          those, so that a re-run never touches apt
#   setup_private_apt      sets APT_OPTS: a private sources list and lists under
#                          $CACHE/apt for the suites the machine is not configured for
#                          (Xen's source, the kernel source); download only
#   private_apt_update     apt-get update of those lists (once, or when asked)

ensure_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "need root to install ${missing[*]}"
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The system lists may be stale or empty on a fresh machine: update and retry once.
    { apt-get install -y --no-install-recommends "${missing[@]}" >&2; } ||
        { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
}

# The machine's mirrors, read from its own apt entry (never a hard-coded host): the
# first URI of the stanza for SUITE_KIND "main" (bookworm) or "security".
system_mirror() {
    local kind=$1 f=/etc/apt/sources.list.d/debian.sources
    [ -f "$f" ] || die "cannot read the mirrors: no $f"
    awk -v kind="$kind" '
        /^[[:space:]]*$/ { if (uri != "" && (kind == "security") == sec) { print uri; found = 1; exit }
                           uri = ""; sec = 0; next }
        /^URIs:/   { uri = $2 }
        /^Suites:/ { sec = ($0 ~ /-security/) }
        END { if (!found && uri != "" && (kind == "security") == sec) print uri }' "$f" | head -n1
}

# Suites: bookworm and bookworm-security sources (Xen), forky (the Linux 7.2 source
# package) and trixie-backports; binaries of other suites are only ever downloaded
# and unpacked, never installed on this bookworm host.
APT_OPTS=()
setup_private_apt() {
    local mirror security list dir=$CACHE/apt
    mirror=$(system_mirror main)
    [ -n "$mirror" ] || die "cannot read the Debian mirror from /etc/apt/sources.list.d/debian.sources"
    security=$(system_mirror security)
    [ -n "$security" ] || security=${mirror%/debian}/debian-security
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    list=$(cat <<LIST
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $security bookworm-security main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror forky main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-backports main
LIST
)
    # Rewrite only when it differs, so that the lists are not invalidated needlessly;
    # a changed list means the old lists are stale.
    if [ ! -f "$dir/sources.list" ] || [ "$(cat "$dir/sources.list")" != "$list" ]; then
        printf '%s\n' "$list" > "$dir/sources.list"
        rm -f "$dir/lists/"*_Sources* "$dir/lists/"*_Packages* "$dir/.updated"
    fi
    # Dir::Cache is private too: otherwise apt would rebuild the system's package
    # cache (/var/cache/apt/*.bin) from our private lists.
    APT_OPTS=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o "Dir::Etc::sourceparts=-"
              -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
    [ -f "$dir/.updated" ] || private_apt_update
}
private_apt_update() {
    log "apt-get update (private lists in $CACHE/apt)"
    apt-get "${APT_OPTS[@]}" update >&2 || die "apt-get update of the private lists failed"
    date -u +%FT%TZ > "$CACHE/apt/.updated"
}
