#!/bin/sh
# SPDX-License-Identifier: MIT
# Prints the directory that holds kselftest_harness.h and kselftest.h.
# They are GPL-2.0 build-time inputs, never part of this repository:
#   1. KSFT_DIR, if set: that directory, or a kernel tree holding
#      tools/testing/selftests/;
#   2. otherwise a cache, filled once from Debian's linux-source-6.1
#      package (apt-get download needs no root).
set -eu
say() { echo "ksft-headers: $*" >&2; }

if [ -n "${KSFT_DIR:-}" ]; then
	for d in "$KSFT_DIR" "$KSFT_DIR/tools/testing/selftests"; do
		if [ -f "$d/kselftest_harness.h" ] && [ -f "$d/kselftest.h" ]; then
			echo "$d"
			exit 0
		fi
	done
	say "KSFT_DIR=$KSFT_DIR holds no kselftest_harness.h and kselftest.h (nor tools/testing/selftests/ with them)"
	exit 1
fi

cache=${MINI_KVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mini-kvm}/kselftest
if [ -f "$cache/kselftest_harness.h" ] && [ -f "$cache/kselftest.h" ]; then
	echo "$cache"
	exit 0
fi

pkg=linux-source-6.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
say "fetching kselftest headers from Debian's $pkg (once; cached in $cache)"
if ! (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1); then
	if [ "$(id -u)" = 0 ]; then
		apt-get update >/dev/null 2>&1 || true
		(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || true
	fi
fi
deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
	say "could not download $pkg (try 'sudo apt-get update' first),"
	say "or point KSFT_DIR at a directory or kernel tree with kselftest_harness.h and kselftest.h"
	exit 1
fi
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards '*/linux-source-6.1.tar.xz'
tar -xJf "$tmp"/usr/src/linux-source-6.1.tar.xz -C "$tmp" \
	linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
	linux-source-6.1/tools/testing/selftests/kselftest.h
mkdir -p "$cache"
cp "$tmp"/linux-source-6.1/tools/testing/selftests/kselftest*.h "$cache/"
echo "$cache"
