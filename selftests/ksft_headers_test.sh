#!/bin/sh
# SPDX-License-Identifier: MIT
# ksft_headers_test: where selftests/ksft-headers.sh finds the kselftest
# headers, against a fake apt (apt-get and apt-cache first on PATH, and
# packages built here with dpkg-deb): no network, no KVM, so run_tests.sh
# runs it on the host. KSFT_DIR (a directory, a kernel tree, neither),
# an Ubuntu-shaped package (linux-source-6.8.0, a .tar.bz2 in a directory
# of /usr/src) behind the linux-source metapackage, a Debian-shaped one
# (linux-source-6.1, a .tar.xz), a .tar.gz, the fallback to linux-source-6.1
# when there is no metapackage or its package cannot be had or holds no
# headers, the cache, and no package at all. TAP; exits 0 pass, 1 fail,
# 4 skip (no dpkg-deb).
set -u
here=$(cd "$(dirname "$0")" && pwd)
script=$here/ksft-headers.sh
echo "TAP version 13"
for t in dpkg-deb tar xz bzip2 gzip; do
	command -v $t >/dev/null 2>&1 || { echo "1..0 # SKIP no $t here"; exit 4; }
done
[ -x "$script" ] || { echo "1..0 # SKIP no $script"; exit 4; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin" "$tmp/repo"

# The fake apt: the metapackage linux-source depends on $FAKE_META (none
# when empty); `apt-get download P` gives $tmp/repo/P.deb when there is one.
# Every call is logged.
cat >"$tmp/bin/apt-cache" <<EOF
#!/bin/sh
echo "apt-cache \$*" >>"$tmp/log"
[ "\$*" = "depends linux-source" ] && [ -n "\$FAKE_META" ] || { echo "E: No packages found" >&2; exit 100; }
printf 'linux-source\n  Depends: %s\n' "\$FAKE_META"
EOF
cat >"$tmp/bin/apt-get" <<EOF
#!/bin/sh
echo "apt-get \$*" >>"$tmp/log"
case \$1 in
update) ;;
download) cp "$tmp/repo/\$2.deb" . 2>/dev/null || { echo "E: Unable to locate package \$2" >&2; exit 100; } ;;
*) exit 100 ;;
esac
EOF
chmod +x "$tmp/bin/apt-cache" "$tmp/bin/apt-get"

# pkg NAME TARBALL COMPRESSOR [none]: a package NAME whose TARBALL (its path
# under /usr/src) holds NAME/tools/testing/selftests/kselftest*.h, each
# saying "NAME" (or, with none, no headers).
pkg() {
	d=$tmp/build/$1
	mkdir -p "$d/root/DEBIAN" "$d/src/$1/tools/testing/selftests" "$(dirname "$d/root/usr/src/$2")"
	if [ "${4:-}" != none ]; then
		for h in kselftest_harness.h kselftest.h; do echo "/* $1 */" >"$d/src/$1/tools/testing/selftests/$h"; done
	fi
	tar -c -C "$d/src" "$1" | $3 >"$d/root/usr/src/$2"
	printf 'Package: %s\nVersion: 1\nArchitecture: all\nMaintainer: test <test@localhost>\nDescription: fake\n' \
		"$1" >"$d/root/DEBIAN/control"
	dpkg-deb -Zgzip --root-owner-group -b "$d/root" "$tmp/repo/$1.deb" >/dev/null
}
pkg linux-source-6.8.0 linux-source-6.8.0/linux-source-6.8.0.tar.bz2 bzip2
pkg linux-source-6.1 linux-source-6.1.tar.xz xz
pkg linux-source-7.0 linux-source-7.0.tar.gz gzip
pkg linux-source-6.9 linux-source-6.9.tar.xz xz none

n=0 failed=0
# check NAME META WANT [KSFT_DIR]: ksft-headers.sh with the metapackage
# pointing to META and a fresh cache (or the one of the check before, when
# META is "cached"); WANT is the package the headers must come from, or a
# directory to be printed, or "fail".
check() {
	name=$1 want=$3 why=''
	n=$((n + 1))
	[ "$2" = cached ] || cache=$tmp/cache.$n
	: >"$tmp/log"
	FAKE_META=${2#cached} KSFT_DIR=${4:-} MINI_KVM_CACHE=$cache PATH="$tmp/bin:$PATH" \
		"$script" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	case $want in
	fail)
		[ $rc = 1 ] || why="exit $rc, not 1"
		[ -z "$out" ] || why="${why:+$why; }stdout: $out"
		grep -q 'KSFT_DIR' "$tmp/err" || why="${why:+$why; }stderr does not say how to set KSFT_DIR"
		;;
	/*)
		[ $rc = 0 ] && [ "$out" = "$want" ] || why="exit $rc, printed '$out', not $want"
		;;
	*)
		[ $rc = 0 ] && [ "$out" = "$cache/kselftest" ] || why="exit $rc, printed '$out', not $cache/kselftest"
		for h in kselftest_harness.h kselftest.h; do
			grep -qx "/\\* $want \\*/" "$cache/kselftest/$h" 2>/dev/null || why="${why:+$why; }$h is not $want's"
		done
		;;
	esac
	if [ -z "$why" ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		failed=1
		echo "# $why"
		sed 's/^/# stderr: /' "$tmp/err"
		sed 's/^/# called: /' "$tmp/log"
	fi
}
# called WHAT...: the fake apt was asked exactly WHAT (one line each), in
# the check before.
called() {
	want=$(printf '%s\n' "$@")
	what=$(printf '%s, ' "$@")
	what="... and asked apt ${what:+only: }${what%, }"
	[ $# -gt 0 ] || what="... and asked apt nothing"
	n=$((n + 1))
	if [ "$(cat "$tmp/log")" = "$want" ]; then
		echo "ok $n $what"
	else
		echo "not ok $n $what"
		failed=1
		sed 's/^/# called: /' "$tmp/log"
	fi
}

tree=$tmp/build/linux-source-6.1/src/linux-source-6.1
check "KSFT_DIR: a directory" linux-source-7.0 "$tree/tools/testing/selftests" "$tree/tools/testing/selftests"
called
check "KSFT_DIR: a kernel tree" linux-source-7.0 "$tree/tools/testing/selftests" "$tree"
check "KSFT_DIR without the headers: an error, no package tried" linux-source-7.0 fail "$tmp"
called
check "Ubuntu: the metapackage's linux-source-6.8.0, a .tar.bz2 in a directory" linux-source-6.8.0 linux-source-6.8.0
called "apt-cache depends linux-source" "apt-get download linux-source-6.8.0"
check "the cache: the same headers again" cached linux-source-6.8.0
called
check "Debian: the metapackage's linux-source-6.1, a .tar.xz" linux-source-6.1 linux-source-6.1
called "apt-cache depends linux-source" "apt-get download linux-source-6.1"
check "a .tar.gz" linux-source-7.0 linux-source-7.0
check "no metapackage: Debian's linux-source-6.1" "" linux-source-6.1
called "apt-cache depends linux-source" "apt-get download linux-source-6.1"
check "the metapackage's package cannot be had: linux-source-6.1" linux-source-6.12 linux-source-6.1
called "apt-cache depends linux-source" "apt-get download linux-source-6.12" "apt-get download linux-source-6.1"
check "the metapackage's package has no headers: linux-source-6.1" linux-source-6.9 linux-source-6.1
rm "$tmp/repo/linux-source-6.1.deb"
check "no package at all: how to set KSFT_DIR" "" fail
if [ "$(id -u)" = 0 ]; then
	called "apt-cache depends linux-source" "apt-get download linux-source-6.1" "apt-get update" \
		"apt-cache depends linux-source" "apt-get download linux-source-6.1"
else
	called "apt-cache depends linux-source" "apt-get download linux-source-6.1"
fi
check "no package at all, KSFT_DIR still works" "" "$tree/tools/testing/selftests" "$tree"
echo "1..$n"
exit $failed
