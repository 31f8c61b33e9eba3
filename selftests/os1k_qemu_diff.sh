#!/bin/sh
# SPDX-License-Identifier: MIT
#
# os1k_qemu_diff.sh: the differential test of the 1K OS. Boots the same
# kernel (build/guests/os1k.elf) under QEMU TCG and under ./mini-kvm with
# the same scripted input, for each guests/os1k/tests/NAME.in, and checks
# that both transcripts equal the golden NAME.out and each other, and that
# both end with the same exit status (NAME.status, or 0).
#
# Volatile numbers (tick counts) are masked with the sed expression in
# guests/os1k/tests/README before comparing. EOF tests (eof_*) end their
# input without choosing 0: mini-kvm reports the end (HC_EOF); a serial
# line has none, so QEMU gets Ctrl-D bytes, which the OS treats the same.
#
# With --update, it only boots QEMU and rewrites the goldens (NAME.out) from
# what QEMU prints: check every changed line by hand before committing.
#
# kselftest conventions: TAP 13 on stdout, exit 0 pass, 1 fail, 4 skip.
# Environment: BUILD (build), MINI_KVM (./mini-kvm; if set, /dev/kvm is
# not checked here), QEMU
# (qemu-system-i386), OS1K_TIMEOUT (seconds per boot, 30).

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
IMAGE=$BUILD/guests/os1k.elf
TESTS=$ROOT/guests/os1k/tests
# A MINI_KVM given from outside (say, a wrapper that runs it where KVM is)
# is trusted to find KVM itself; the default one needs /dev/kvm here.
NEED_DEV_KVM=1
[ -n "$MINI_KVM" ] && NEED_DEV_KVM=0
MINI_KVM=${MINI_KVM:-$ROOT/mini-kvm}
QEMU=${QEMU:-qemu-system-i386}
TIMEOUT=${OS1K_TIMEOUT:-30}
MASK='s/^(ticks (since boot|before|after): )[0-9]+$/\1N/'

skip() {
	echo "TAP version 13"
	echo "1..0 # SKIP $1"
	exit 4
}

UPDATE=0
[ "$1" = "--update" ] && UPDATE=1

command -v "$QEMU" >/dev/null 2>&1 || skip "$QEMU not found"
[ -f "$IMAGE" ] || skip "$IMAGE not built (make)"
if [ $UPDATE -eq 0 ]; then
	[ -x "$MINI_KVM" ] || skip "$MINI_KVM not built"
	if [ $NEED_DEV_KVM -eq 1 ]; then
		[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "no usable /dev/kvm"
	fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/os1k_diff.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT INT TERM

# run_qemu NAME: transcript in $WORK/NAME.qemu, exit status on stdout.
# isa-debug-exit makes QEMU exit with (status << 1) | 1.
run_qemu() {
	cp "$TESTS/$1.in" "$WORK/$1.qemu.in"
	case $1 in eof_*) printf '\004\004\004\004' >>"$WORK/$1.qemu.in" ;; esac
	timeout "$TIMEOUT" "$QEMU" -kernel "$IMAGE" -m 8 -serial stdio \
		-display none -monitor none -nodefaults -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		<"$WORK/$1.qemu.in" >"$WORK/$1.qemu.raw" 2>"$WORK/$1.qemu.err"
	rc=$?
	sed -E "$MASK" "$WORK/$1.qemu.raw" >"$WORK/$1.qemu"
	if [ $((rc & 1)) -eq 1 ]; then
		echo $((rc >> 1))
	else
		echo "qemu-rc-$rc"	# timeout (124) or no power-off
	fi
}

# run_minikvm NAME: transcript in $WORK/NAME.minikvm, exit status on stdout.
run_minikvm() {
	timeout "$TIMEOUT" "$MINI_KVM" "$IMAGE" <"$TESTS/$1.in" \
		>"$WORK/$1.minikvm.raw" 2>"$WORK/$1.minikvm.err"
	rc=$?
	sed -E "$MASK" "$WORK/$1.minikvm.raw" >"$WORK/$1.minikvm"
	if [ $rc -eq 124 ]; then
		echo "timeout"
	else
		echo $rc
	fi
}

# show FILE: as TAP diagnostics
show() {
	sed 's/^/# /' "$1" | head -n 40
}

names=$(cd "$TESTS" && ls *.in | sed 's/\.in$//')
count=$(echo "$names" | wc -l)
echo "TAP version 13"
echo "1..$count"

n=0
failed=0
for name in $names; do
	n=$((n + 1))
	want=0
	[ -f "$TESTS/$name.status" ] && want=$(cat "$TESTS/$name.status")
	qs=$(run_qemu "$name")
	if [ $UPDATE -eq 1 ]; then
		cp "$WORK/$name.qemu" "$TESTS/$name.out"
		if [ "$qs" = "$want" ]; then
			echo "ok $n os1k $name # updated from QEMU"
		else
			echo "not ok $n os1k $name # qemu-status=$qs(want-$want)"
			failed=$((failed + 1))
		fi
		continue
	fi
	ks=$(run_minikvm "$name")
	why=""
	if ! cmp -s "$WORK/$name.qemu" "$TESTS/$name.out"; then
		why="$why qemu-vs-golden"
		diff -u "$TESTS/$name.out" "$WORK/$name.qemu" >"$WORK/diff" 2>&1
		show "$WORK/diff"
	fi
	if ! cmp -s "$WORK/$name.minikvm" "$TESTS/$name.out"; then
		why="$why minikvm-vs-golden"
		diff -u "$TESTS/$name.out" "$WORK/$name.minikvm" >"$WORK/diff" 2>&1
		show "$WORK/diff"
		show "$WORK/$name.minikvm.err"
	fi
	if ! cmp -s "$WORK/$name.qemu" "$WORK/$name.minikvm"; then
		why="$why qemu-vs-minikvm"
	fi
	[ "$qs" = "$want" ] || why="$why qemu-status=$qs(want-$want)"
	[ "$ks" = "$want" ] || why="$why minikvm-status=$ks(want-$want)"
	if [ -z "$why" ]; then
		echo "ok $n os1k $name"
	else
		echo "not ok $n os1k $name #$why"
		failed=$((failed + 1))
	fi
done

[ $failed -eq 0 ] || exit 1
exit 0
