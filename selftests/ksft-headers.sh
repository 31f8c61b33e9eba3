#!/bin/sh
# SPDX-License-Identifier: MIT
# Prints the directory that holds kselftest_harness.h and kselftest.h.
# They are GPL-2.0 build-time inputs, never part of this repository. The
# first of these that has them:
#   1. KSFT_DIR, if set: that directory, or a kernel tree holding
#      tools/testing/selftests/ (and nothing else is tried);
#   2. the cache, filled once from a kernel source package (apt-get
#      download needs no root; as root, apt-get update when that fails):
#      first the one that the linux-source metapackage depends on
#      (Debian's linux-source-6.x, Ubuntu's linux-source-6.x.y; a .tar.xz,
#      .tar.bz2 or .tar.gz inside), then Debian's linux-source-6.1;
#   3. otherwise it says how to set KSFT_DIR, and exits 1.
# selftests/ksft_headers_test.sh tests this chain against a fake apt.
set -eu
say() { echo "ksft-headers: $*" >&2; }
has_headers() { [ -f "$1/kselftest_harness.h" ] && [ -f "$1/kselftest.h" ]; }

if [ -n "${KSFT_DIR:-}" ]; then
	for d in "$KSFT_DIR" "$KSFT_DIR/tools/testing/selftests"; do
		has_headers "$d" && { echo "$d"; exit 0; }
	done
	say "KSFT_DIR=$KSFT_DIR holds no kselftest_harness.h and kselftest.h (nor tools/testing/selftests/ with them)"
	exit 1
fi

cache=${MINI_KVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mini-kvm}/kselftest
has_headers "$cache" && { echo "$cache"; exit 0; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fetch PACKAGE: the two headers from PACKAGE's source tarball, into the cache.
fetch() {
	rm -rf "$tmp/pkg" && mkdir "$tmp/pkg"
	(cd "$tmp/pkg" && apt-get download "$1") >/dev/null 2>&1 || return 1
	say "unpacking the kselftest headers from $1 (once; cached in $cache)"
	dpkg-deb --fsys-tarfile "$tmp"/pkg/*.deb |
		tar -x -C "$tmp/pkg" --wildcards '*/usr/src/*.tar.xz' '*/usr/src/*.tar.bz2' '*/usr/src/*.tar.gz' 2>/dev/null
	for src in "$tmp"/pkg/usr/src/*.tar.* "$tmp"/pkg/usr/src/*/*.tar.*; do
		[ -f "$src" ] || continue
		# tar finds the compression itself
		tar -x -C "$tmp/pkg" -f "$src" --wildcards --no-anchored \
			'tools/testing/selftests/kselftest_harness.h' 'tools/testing/selftests/kselftest.h' || continue
		for d in "$tmp"/pkg/*/tools/testing/selftests; do
			has_headers "$d" || continue
			mkdir -p "$cache"
			cp "$d/kselftest_harness.h" "$d/kselftest.h" "$cache/"
			return 0
		done
	done
	say "$1 has no kselftest headers in a source tarball"
	return 1
}

# The packages to try: the metapackage's versioned one, then Debian 12's.
candidates() {
	apt-cache depends linux-source 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-source-[0-9]/ { print $2 }'
	echo linux-source-6.1
}

for attempt in 1 2; do
	for pkg in $(candidates | awk '!seen[$0]++'); do
		fetch "$pkg" && { echo "$cache"; exit 0; }
	done
	if [ "$attempt" = 2 ] || [ "$(id -u)" != 0 ]; then break; fi
	say "no kernel source package could be downloaded; running apt-get update"
	apt-get update >/dev/null 2>&1 || true
done
say "could not download a kernel source package (linux-source, linux-source-6.1; 'sudo apt-get update' may help)."
say "Set KSFT_DIR to a directory with kselftest_harness.h and kselftest.h, or to a kernel tree (Linux 6.1 or later):"
say "  make run_tests KSFT_DIR=/path/to/linux"
exit 1
