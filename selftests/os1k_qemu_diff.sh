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
# Where mini-kvm runs: on this machine's KVM when build/kvm-probe says it is
# usable (or, without the probe, /dev/kvm is there); otherwise all the
# mini-kvm runs go into one boot of the nested-KVM helper VM (ci/nested-kvm)
# unless NESTED=0; NESTED=1 always uses the helper. No KVM at all, no
# QEMU, or no ./mini-kvm: the test skips.
#
#   os1k_qemu_diff.sh             the test
#   os1k_qemu_diff.sh --update    QEMU only: rewrite every NAME.out from
#                                 QEMU's transcript (check them by hand!)
#   os1k_qemu_diff.sh --minikvm-batch
#                                 (inside the helper VM) run mini-kvm on
#                                 every input, print transcripts in base64
#
# kselftest conventions: TAP 13 on stdout, exit 0 pass, 1 fail, 4 skip.
# Environment: BUILD (build), MINI_KVM (./mini-kvm: if set, it is run
# here, trusted to find a KVM), QEMU (qemu-system-i386), NESTED,
# OS1K_TIMEOUT (seconds per boot, 20), OS1K_TESTS (names to run: all).

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
IMAGE=$BUILD/guests/os1k.elf
TESTS=$ROOT/guests/os1k/tests
MINI_KVM_GIVEN=${MINI_KVM:+1}
MINI_KVM=${MINI_KVM:-$ROOT/mini-kvm}
QEMU=${QEMU:-qemu-system-i386}
TIMEOUT=${OS1K_TIMEOUT:-20}
MASK='s/^(ticks (since boot|before|after): )[0-9]+$/\1N/'
NAMES=${OS1K_TESTS:-$(cd "$TESTS" && for f in *.in; do echo "${f%.in}"; done)}

skip() {
	echo "TAP version 13"
	echo "1..0 # SKIP $1"
	exit 4
}

# run_minikvm NAME OUTFILE: the transcript, raw; prints the exit status.
run_minikvm() {
	timeout "$TIMEOUT" "$MINI_KVM" "$IMAGE" <"$TESTS/$1.in" >"$2" \
		2>"$2.err"
	rc=$?
	[ $rc -eq 124 ] && rc=timeout
	echo $rc
}

# Inside the helper VM, whose files vanish with it: everything on stdout.
if [ "${1:-}" = "--minikvm-batch" ]; then
	out=$(mktemp) || exit 1
	for name in $NAMES; do
		rc=$(run_minikvm "$name" "$out")
		echo "@os1k $name $rc"
		base64 <"$out"
		echo "@os1k-stderr"
		head -c 2000 "$out.err" | base64
		echo "@os1k-end"
	done
	rm -f "$out" "$out.err"
	exit 0
fi

UPDATE=0
[ "${1:-}" = "--update" ] && UPDATE=1

command -v "$QEMU" >/dev/null 2>&1 || skip "$QEMU not found"
[ -f "$IMAGE" ] || skip "$IMAGE not built (make)"
WHERE=none
if [ $UPDATE -eq 0 ]; then
	[ -x "$MINI_KVM" ] || skip "$MINI_KVM not built"
	if [ -n "$MINI_KVM_GIVEN" ] && [ "${NESTED:-}" != 1 ]; then
		WHERE=native
	elif [ "${NESTED:-}" != 1 ] && [ -x "$BUILD/kvm-probe" ]; then
		"$BUILD/kvm-probe" >/dev/null 2>&1 && WHERE=native
	elif [ "${NESTED:-}" != 1 ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		WHERE=native
	fi
	if [ $WHERE = none ] && [ "${NESTED:-}" != 0 ] &&
	   [ -x "$ROOT/ci/nested-kvm" ]; then
		WHERE=nested
	fi
	[ $WHERE = none ] && skip "no usable KVM here, and no helper VM (NESTED=${NESTED:-})"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/os1k_diff.XXXXXX") || exit 1
batch_pid=
trap '[ -z "$batch_pid" ] || kill $batch_pid 2>/dev/null; rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_qemu NAME: transcript in $WORK/NAME.qemu, exit status in NAME.qemu.rc.
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
		echo $((rc >> 1)) >"$WORK/$1.qemu.rc"
	else
		echo "qemu-rc-$rc" >"$WORK/$1.qemu.rc" # 124: timeout
	fi
}

# unpack_batch FILE: split --minikvm-batch output into the WORK files.
unpack_batch() {
	name=
	part=
	while IFS= read -r line; do
		case $line in
		"@os1k "*)
			# shellcheck disable=SC2086 # "@os1k NAME STATUS": split into words
			set -- $line
			name=$2
			part=out
			echo "$3" >"$WORK/$name.minikvm.rc"
			: >"$WORK/$name.b64"
			: >"$WORK/$name.err64"
			;;
		"@os1k-stderr") part=err ;;
		"@os1k-end")
			base64 -d <"$WORK/$name.b64" >"$WORK/$name.minikvm.raw"
			base64 -d <"$WORK/$name.err64" >"$WORK/$name.minikvm.err"
			part=
			;;
		*)
			case $part in
			out) echo "$line" >>"$WORK/$name.b64" ;;
			err) echo "$line" >>"$WORK/$name.err64" ;;
			esac
			;;
		esac
	done <"$1"
}

# Fills in NAME.minikvm (masked), NAME.minikvm.rc and NAME.minikvm.err.
run_all_minikvm() {
	if [ $WHERE = native ]; then
		for name in $NAMES; do
			run_minikvm "$name" "$WORK/$name.minikvm.raw" \
				>"$WORK/$name.minikvm.rc"
			mv "$WORK/$name.minikvm.raw.err" "$WORK/$name.minikvm.err"
		done
	else
		wait $batch_pid
		rc=$?
		batch_pid=
		echo "# helper VM: exit $rc, $(wc -l <"$WORK/batch") lines"
		sed 's/^/# helper VM: /' "$WORK/batch.err" | head -n 10
		unpack_batch "$WORK/batch"
	fi
	for name in $NAMES; do
		[ -f "$WORK/$name.minikvm.rc" ] ||
			echo "no-run" >"$WORK/$name.minikvm.rc"
		[ -f "$WORK/$name.minikvm.raw" ] ||
			: >"$WORK/$name.minikvm.raw"
		sed -E "$MASK" "$WORK/$name.minikvm.raw" >"$WORK/$name.minikvm"
	done
}

# show FILE: as TAP diagnostics
show() {
	sed 's/^/# /' "$1" | head -n 40
}

echo "TAP version 13"
# shellcheck disable=SC2086 # NAMES: one word per test
echo "1..$(echo $NAMES | wc -w)"
[ $UPDATE -eq 0 ] && echo "# mini-kvm runs: $WHERE"

# The helper VM boots while QEMU runs: the QEMU sessions are half idle.
if [ $WHERE = nested ]; then
	"$ROOT/ci/nested-kvm" --batch --timeout=100 -- "$0" --minikvm-batch \
		</dev/null >"$WORK/batch" 2>"$WORK/batch.err" &
	batch_pid=$!
fi
for name in $NAMES; do
	run_qemu "$name"
done
[ $UPDATE -eq 0 ] && run_all_minikvm

n=0
failed=0
for name in $NAMES; do
	n=$((n + 1))
	want=0
	[ -f "$TESTS/$name.status" ] && want=$(cat "$TESTS/$name.status")
	qs=$(cat "$WORK/$name.qemu.rc")
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
	ks=$(cat "$WORK/$name.minikvm.rc")
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
