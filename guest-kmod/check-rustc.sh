#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# check-rustc.sh KDIR: before an out-of-tree build, checks that the kernel in KDIR (a
# build tree, or an installed kernel's headers: /lib/modules/<kver>/build) has Rust
# support, and that the rustc on PATH ($RUSTC if set) is the very compiler the kernel was
# built with. A Rust module links against the kernel's own `core` and `kernel` crates,
# whose metadata only that rustc version can read, so "close enough" does not exist: the
# text must equal the kernel's CONFIG_RUSTC_VERSION_TEXT (what `rustc --version` printed
# when the kernel was configured). On a mismatch it says what to install. Last, the
# tree must hold the Rust build products a module is compiled against (rust/*.rmeta,
# scripts/target.json): a full build tree has them, Debian's headers packages do not.
# Exit status: 0 ready, 1 mismatch, no Rust support or no Rust artifacts, 2 usage or
# unreadable tree.
# POSIX sh: it also runs inside DKMS and a minimal guest.
set -eu

usage() { echo "usage: check-rustc.sh KDIR (a kernel build tree or headers directory)" >&2; exit 2; }
[ $# -eq 1 ] || usage
kdir=$1
[ -d "$kdir" ] || { echo "check-rustc: no kernel tree at '$kdir' (install the headers: apt install linux-headers-\$(uname -r))" >&2; exit 2; }
config=$kdir/.config
[ -f "$config" ] || config=$kdir/include/config/auto.conf
[ -f "$config" ] || { echo "check-rustc: '$kdir' has neither .config nor include/config/auto.conf: not a configured kernel tree" >&2; exit 2; }

# The kernel release, for the messages: the headers' own record, else the tree's path.
kver=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || basename "$(dirname "$kdir")")

if ! grep -q '^CONFIG_RUST=y$' "$config"; then
    echo "check-rustc: kernel $kver ($config) is built without Rust support (CONFIG_RUST is not y):" >&2
    echo "  the rtsleep module needs a kernel with CONFIG_RUST=y (Debian: linux-image-amd64 or -cloud-amd64 of trixie or newer)" >&2
    exit 1
fi
want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$config")
[ -n "$want" ] || { echo "check-rustc: $config has CONFIG_RUST=y but no CONFIG_RUSTC_VERSION_TEXT" >&2; exit 2; }
rustc=${RUSTC:-rustc}
if have=$("$rustc" --version 2>/dev/null); then
    where=$(command -v "$rustc" || echo "$rustc")
else
    have="(none: '$rustc' is not found or does not run)" where=$rustc
fi
if [ "$have" = "$want" ]; then
    set -- "$kdir"/rust/*.rmeta
    [ -f "$1" ] && [ -f "$kdir/scripts/target.json" ] && exit 0
    cat >&2 <<MSG
check-rustc: kernel $kver has the right rustc but its tree ($kdir) lacks the Rust
artifacts an out-of-tree module is compiled against (rust/*.rmeta, scripts/target.json):
Debian's linux-headers packages do not ship them. Build them from the kernel's own source
with guest-kmod/debian-rust-headers.sh --kernel $kver (as root), then rebuild.
MSG
    exit 1
fi

# "rustc 1.97.1 (...)" -> 1.97.1
version=$(echo "$want" | sed -n 's/^rustc \([0-9][0-9.]*\).*/\1/p')
cat >&2 <<MSG
check-rustc: kernel $kver was built with
    $want
but the rustc on PATH ($where) is
    $have
A Rust module must be compiled by the kernel's own rustc: install rustc ${version:-<version>}
and its library sources (rust-src), put that rustc first on PATH, and rebuild.
  - Debian guest: apt install rustc rust-src bindgen, from the suite the kernel
    came from (apt policy rustc linux-headers-$kver shows both suites); Debian's
    kernels are built with Debian's rustc ("built from a source tarball").
  - rustup: rustup toolchain install ${version:-<version>} --component rust-src, then
    PATH=\$(dirname "\$(rustup +${version:-<version>} which rustc)"):\$PATH
  - or name it: make RUSTC=/path/to/rustc-${version:-<version>} (or RUSTC= in the environment)
MSG
exit 1
