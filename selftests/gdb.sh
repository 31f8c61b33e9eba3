# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# gdb.sh: what gdb_test.sh and gdb_os1k_test.sh share (no test itself;
# make install copies it beside them). Sourced with here set: finds
# mini-kvm, the guests' ELFs and gdb, skips (exit 4) without them or a
# usable KVM, and gives: stub (mini-kvm --gdb in the background), gdb_args
# and gdb_batch (Debian's gdb in batch mode), ended, the want_*
# checks, and run_cases' case_details and case_done.
# shellcheck disable=SC2034 # probe, probe_rc and skip_why are the tests'
# shellcheck disable=SC2154 # here: set by the test that sources this
# The guests' ELFs, for their symbols: build/guests in the tree (also above
# build/san/), or beside an installed copy.
G=${MINI_KVM_GUESTS:-}
for c in "$here/../build/guests" "$here/../../../build/guests" "$here"; do
	[ -z "$G" ] && [ -f "$c/segments.elf" ] && G=$c
done
. "$here/tap.sh"
need_mini_kvm
[ -n "$G" ] || skip_all "no build/guests/segments.elf (make builds it; or set MINI_KVM_GUESTS)"
command -v gdb >/dev/null || skip_all "no gdb (Debian's gdb package; make run_tests installs it as root)"
command -v python3 >/dev/null || skip_all "no python3 for the raw-packet cases"
need_kvm

tmp=$(mktemp -d)
trap 'kill "$mk_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
out=$tmp/out err=$tmp/err gout=$tmp/gdb sock=$tmp/gdb.sock mk_pid=
: >"$gout"

# stub IMAGE [ARG...]: mini-kvm --gdb=$where (default: a Unix socket) in
# the background, stdin from $input (default /dev/null), returning once it
# says it waits for gdb.
stub() {
	rm -f "$sock" "$out" "$err"
	# mini-kvm waits for gdb without a limit: timeout(1) ends a run gdb never reached.
	timeout 150 "$M" --timeout=120 --gdb="${where:-$sock}" "$@" <"${input:-/dev/null}" >"$out" 2>"$err" &
	mk_pid=$!
	for _ in $(seq 600); do
		grep -q 'waiting for gdb' "$err" 2>/dev/null && return 0
		kill -0 "$mk_pid" 2>/dev/null || break
		sleep 0.05
	done
	fail_why+="mini-kvm --gdb did not start; "
	return 1
}

# stub_pid: mini-kvm's own pid (timeout's child).
stub_pid() { pgrep -P "$mk_pid" | head -1; }

# gdb_args ELF|- CMD...: gdb's arguments in gdb_argv: batch mode,
# connected to the stub ($target, default the socket), each CMD an -ex
# (an error in one does not stop the next). - is no ELF, real mode.
gdb_args() {
	local elf=$1
	shift
	gdb_argv=(-q -batch -nx -ex "set pagination off" -ex "set confirm off")
	[ "$elf" = - ] && gdb_argv+=(-ex "set architecture i8086")
	for c in "target remote ${target:-$sock}" "$@"; do gdb_argv+=(-ex "$c"); done
	[ "$elf" = - ] || gdb_argv+=("$elf")
}

# gdb_batch ELF|- CMD...: that gdb; its output in $gout.
gdb_batch() {
	gdb_args "$@"
	timeout 100 gdb "${gdb_argv[@]}" </dev/null >"$gout" 2>&1
	# A gdb that never connected leaves mini-kvm waiting for one: end it.
	grep -q '^Remote debugging using' "$gout" || kill "$mk_pid" 2>/dev/null
}

# seg CMD...: gdb on the segments guest (real mode: i8086).
seg() { stub segments && gdb_batch "$G/segments.elf" "set architecture i8086" "$@"; }

# ended: waits for mini-kvm; its status in rc.
ended() {
	wait "$mk_pid"
	rc=$?
	mk_pid=
}

fail_why=
want() { grep -qE -- "$1" "$gout" || { fail_why+="gdb printed no /$1/; "; return 1; }; }
want_not() { ! grep -qE -- "$1" "$gout" || { fail_why+="gdb printed /$1/; "; return 1; }; }
want_rc() { [ "$rc" = "$1" ] || { fail_why+="mini-kvm's exit status $rc, want $1; "; return 1; }; }
want_out() { grep -qF -- "$1" "$out" || { fail_why+="the guest did not print '$1'; "; return 1; }; }


# For run_cases (tap.sh): a failed case shows gdb's output and mini-kvm's
# stderr; each case ends its mini-kvm and starts with an empty gdb log.
case_details() {
	sed 's/^/gdb: /' "$gout" | head -30
	sed 's/^/stderr: /' "$err" 2>/dev/null | head -10
}
case_done() {
	[ -n "$mk_pid" ] && { kill "$mk_pid" 2>/dev/null; ended; }
	: >"$gout"
}
