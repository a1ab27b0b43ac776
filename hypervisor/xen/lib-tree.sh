# Preparing a patched Xen source tree, shared by build.sh (the hypervisor) and
# build-tools.sh (the dom0 toolstack). Sourced, not run; the caller defines log and die.
#
# Both build in a copy of the pristine source (.cache/xen-src, never built in) with a
# patch set applied, and tie the copy to that patch set by a stamp (.rtc-patches in the
# tree): when the patches change the tree is made again from the pristine copy, because
# reverse-applying the old set is fragile. What differs between the two callers stays
# in them: which patches, what the stamp's hash covers, what shows a tree is complete,
# and what they do to a fresh tree (build-tools.sh configures it before stamping, so a
# failed configure makes the next run start again).

# patch_set_hash KEY PATCH...: the hash of KEY and each patch's name and contents, in
# the order given (the order they are applied in).
patch_set_hash() {
    local key=$1 p
    shift
    { echo "$key"
      for p in "$@"; do echo "== $(basename "$p")"; cat "$p"; done; } | sha256sum | cut -d' ' -f1
}

# tree_is_current TREE HASH MARKER: true when TREE carries the stamp HASH and has
# MARKER (a path inside it that only a complete tree has).
tree_is_current() {
    local tree=$1 hash=$2 marker=$3
    [ -f "$tree/.rtc-patches" ] && [ "$(cat "$tree/.rtc-patches")" = "$hash" ] && [ -e "$tree/$marker" ]
}

# tree_from_pristine PRISTINE TREE WHAT PATCH...: TREE made again as a copy of
# PRISTINE with each PATCH applied in order (WHAT names the source in an error). Each
# patch is tried with --dry-run first, so one that does not apply leaves no tree
# behind (the next run starts from the pristine copy) and the error names it. The
# stamp is the caller's to write (tree_stamp), once the tree is as it wants it.
tree_from_pristine() {
    local pristine=$1 tree=$2 what=$3 p n=0
    shift 3
    log "fresh build tree $tree"
    rm -rf "$tree"
    mkdir -p "$tree"
    # The contents, not the directory entry: .cache/xen-src may be a symlink to a
    # shared copy. The pristine copy's own stamps do not describe the tree.
    cp -a "$pristine/." "$tree/"
    rm -f "$tree/.rtc-pristine" "$tree/.rtc-inputs" "$tree/.rtc-patches"
    for p in "$@"; do
        if ! patch -d "$tree" -p1 --dry-run --batch --forward -s < "$p" > /dev/null; then
            rm -rf "$tree"
            die "patch does not apply to $what: $p
       (try: patch -d $pristine -p1 --dry-run < $p   to see the rejected hunks)"
        fi
        patch -d "$tree" -p1 --batch --forward -s < "$p"
        log "applied $(basename "$p")"
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || log "no patches to apply"
}

# tree_stamp TREE HASH: TREE is complete for the patch set HASH.
tree_stamp() { echo "$2" > "$1/.rtc-patches"; }
