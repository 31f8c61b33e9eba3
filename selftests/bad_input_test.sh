#!/bin/sh
# SPDX-License-Identifier: MIT
# bad_input_test: nothing a user feeds the mini-kvm command crashes or
# hangs it, where that needs a KVM: an ELF image that runs (the valid
# baseline that usage_test.sh breaks field by field, and one with its
# program headers at an unaligned offset), a /dev/kvm we may not open
# (126, one line naming the problem), guests that crash or run out of time
# after writing a partial line, four guests stopped by SIGINT, and SIGINT
# on a terminal: 125, 124, 130, every byte the guests wrote on stdout, the
# terminal given back as it was (a pty from script(1)). All of this skips
# without a KVM. The command checks every image before it opens /dev/kvm,
# so usage_test.sh has the bad images and the bad command lines (no KVM
# needed), cli_test.sh the common cases (no /dev/kvm, one guest and a
# signal); this test covers the rest. The table of all three is in the
# README. TAP; exits 0 pass, 1 fail, 4 skip.
set -u
# The command: beside selftests/ (the tree, build/san/), or beside this
# script (make install). The probe: the tree's, or build/san/'s.
here=$(cd "$(dirname "$0")" && pwd)
mkvm='' probe=''
for c in "$here/../mini-kvm" "$here/mini-kvm"; do
	[ -z "$mkvm" ] && [ -f "$c" ] && [ -x "$c" ] && mkvm=$c
done
for c in "$here/../build/kvm-probe" "$here/../kvm-probe"; do
	[ -z "$probe" ] && [ -f "$c" ] && [ -x "$c" ] && probe=$c
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$here/tap.sh"
[ -n "$mkvm" ] || skip_all "no mini-kvm beside $here (run make)"
if [ -n "$probe" ]; then
	"$probe" >/dev/null 2>&1
	probe_rc=$?
else # installed: no probe, so ask the command to run its smallest guest
	"$mkvm" minimal >/dev/null 2>&1 </dev/null && probe_rc=0 || probe_rc=4
fi
# 0: usable, 3: real mode only (enough here)
[ "$probe_rc" != 4 ] || skip_all "no usable KVM (kvm-probe exit 4)"

# run NAME RC PATTERN [--lines=N] -- COMMAND...: COMMAND (stdin /dev/null,
# at most 30 s) must exit RC with PATTERN (grep -E) on the first line of
# stderr, which must have N lines (default 1; 2 for usage errors, whose
# second line points to --help; 0: any).
run() {
	name=$1 want_rc=$2 pattern=$3 lines=1
	shift 3
	case $want_rc in 2) lines=2 ;; esac
	case ${1:-} in --lines=*) lines=${1#--lines=}; shift ;; esac
	[ "${1:-}" = -- ] && shift
	timeout -k 5 30 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	first=$(head -n 1 "$tmp/err")
	nl=$(wc -l <"$tmp/err")
	if [ "$rc" != "$want_rc" ]; then
		not_ok "$name" "exit $rc, expected $want_rc" "stderr: $(head -c 600 "$tmp/err")"
	elif ! printf '%s\n' "$first" | grep -qE -- "$pattern"; then
		not_ok "$name" "stderr does not match /$pattern/:" "$(head -c 600 "$tmp/err")"
	elif [ "$lines" != 0 ] && [ "$nl" != "$lines" ]; then
		not_ok "$name" "stderr has $nl lines, expected $lines:" "$(head -c 600 "$tmp/err")"
	else
		ok "$name" "$first"
	fi
}

. "$here/image_builders.sh"

# Real-mode code (loaded at 0, entered at 0:0). HC_WRITE of LEN bytes at ADDR:
hc_write() { hex 66 bb; le32 "$1"; hex 66 b9; le32 "$2"; hex b0 03 ba 00 05 ee; }
# HC_EXIT with EBX = STATUS:
hc_exit() { hex 66 bb; le32 "$1"; hex b0 00 ba 00 05 ee f4; }

# "partial line" (no newline), then a jump into memory it does not have
# (ljmp $0x8000,$0: 512 KiB, the guest has 256 KiB).
{ hc_write 0x20 12; hex ea 00 00 00 80 f4; z 8; flush; printf 'partial line'; } >"$tmp/crash.bin"
# "tick" (no newline), then a loop forever.
{ hc_write 0x20 4; hex eb fe; z 12; flush; printf tick; } >"$tmp/loop.bin"
# "ready\npartial" (no newline at the end), then a loop forever.
{ hc_write 0x20 13; hex eb fe; z 12; flush; printf 'ready\npartial'; } >"$tmp/sig.bin"
# "ready\n", then echo input until its end (blocks reading a terminal).
{ hc_write 0x24 6; hex b0 02 ee 66 83 f8 ff 74 07 88 c3 b0 01 ee eb f0 f4; z 1; flush
  printf 'ready\n'; } >"$tmp/echo.bin"
{ hc_exit 256; flush; } >"$tmp/exit256.bin"

elf "$tmp/good.elf" 1 3 2 $mb 52 32
{ ehdr 1 3 2 $mb 53 32 1; z 1; phdr 85 $mb 12 12; code; flush; } >"$tmp/unaligned.elf"

# ---- ELF images that run (those refused, before /dev/kvm: usage_test.sh) ----
# Where the KVM runs real mode only (kvm-probe exit 3), a protected-mode
# guest is refused before it runs: one line, 126, and the way elsewhere.
if [ "$probe_rc" = 3 ]; then
	run "ELF baseline: this KVM cannot run it, one line and 126" 126 \
		"cannot run protected-mode guests.*run it in the helper VM: ci/nested-kvm .*good.elf" \
		--lines=1 -- "$mkvm" --timeout=10 "$tmp/good.elf"
else
	run "ELF baseline loads and runs (HC_EXIT 0)" 0 "^$" --lines=0 -- "$mkvm" --timeout=10 "$tmp/good.elf"
	run "ELF with unaligned program headers runs" 0 "^$" --lines=0 -- "$mkvm" --timeout=10 "$tmp/unaligned.elf"
fi

# ---- a /dev/kvm we may not open (no /dev/kvm at all: cli_test.sh) ----
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	skip "/dev/kvm not permitted" "needs root and setpriv to become nobody"
elif setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'exec 3<>/dev/kvm' 2>/dev/null; then
	skip "/dev/kvm not permitted" "nobody may open /dev/kvm here ($(stat -c %A /dev/kvm))"
else
	run "/dev/kvm not permitted (as nobody)" 126 "^mini-kvm: /dev/kvm: permission denied" -- \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$mkvm" hello
fi

# ---- guests that end badly: the status, the message, and all their output ----
# out_is NAME EXPECTED: stdout of the last run, byte for byte.
out_is() {
	if [ "$(cat "$tmp/out"; echo x)" = "$2x" ]; then ok "$1"; else
		not_ok "$1" "stdout: '$(cat "$tmp/out")', expected '$2'"
	fi
}
run "guest crashes after a partial line (jump into unmapped memory)" 125 "^mini-kvm: $tmp/crash.bin: crashed: KVM_EXIT_" --lines=0 -- \
	"$mkvm" "$tmp/crash.bin"
out_is "  ... and the partial line is on stdout" "partial line"
run "guest runs out of time after a partial line" 124 "^mini-kvm: $tmp/loop.bin: timed out after 0.300 s" -- \
	"$mkvm" --timeout=0.3 "$tmp/loop.bin"
out_is "  ... and the partial line is on stdout" "tick"
# Seconds to milliseconds, rounded at the fourth decimal; under 1 ms is 1 ms.
run "--timeout=0.2345 is 235 ms" 124 "^mini-kvm: $tmp/loop.bin: timed out after 0.235 s" -- \
	"$mkvm" --timeout=0.2345 "$tmp/loop.bin"
run "--timeout=.0004 is 1 ms, not none" 124 "^mini-kvm: $tmp/loop.bin: timed out after 0.001 s" -- \
	"$mkvm" --timeout=.0004 "$tmp/loop.bin"
run "guest makes a bad hypercall (HC_EXIT 256)" 125 \
	"^mini-kvm: $tmp/exit256.bin: crashed: bad hypercall: HC_EXIT status out of range" --lines=0 -- \
	"$mkvm" "$tmp/exit256.bin"

# ---- signals while guests run (one guest, SIGTERM and SIGINT: cli_test.sh) ----
# signal_test NAME SIGNAL RC READY_LINES GUEST...: start, wait for READY_LINES
# lines of output, send SIGNAL, check the status and that all output arrived.
signal_test() {
	name=$1 sig=$2 want_rc=$3 ready=$4
	shift 4
	"$mkvm" --no-color "$@" >"$tmp/out" 2>"$tmp/err" </dev/null &
	pid=$!
	i=0
	while [ "$(grep -c ready "$tmp/out")" -lt "$ready" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -s "$sig" $pid
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 $pid 2>/dev/null && { kill -9 $pid; not_ok "$name" "still running 10 s after SIG$sig"; return; }
	wait $pid
	rc=$?
	if [ $rc != "$want_rc" ]; then
		not_ok "$name" "exit $rc, expected $want_rc" "stderr: $(cat "$tmp/err")"
	elif ! grep -q "^mini-kvm: stopped by SIG$sig$" "$tmp/err"; then
		not_ok "$name" "no 'stopped by SIG$sig' on stderr:" "$(cat "$tmp/err")"
	else
		ok "$name"
	fi
}
signal_test "SIGINT while four guests run: 130" INT 130 4 "$tmp/sig.bin" "$tmp/sig.bin" \
	"$tmp/sig.bin" "$tmp/sig.bin"
want=$(for g in sig 'sig#2' 'sig#3' 'sig#4'; do printf '%s| ready\n%s| partial\n' "$g" "$g"; done | sort)
if [ "$(sort "$tmp/out")" = "$want" ]; then ok "  ... every line of every guest is on stdout"
else not_ok "  ... every line of every guest is on stdout" "stdout: $(cat "$tmp/out")"; fi

# ---- SIGINT on a terminal: raw mode while the guest reads, restored after ----
# Under script(1) the command's stdin is a pty. A helper waits for the
# guest's "ready", records the terminal mode, sends SIGINT.
if ! command -v script >/dev/null; then
	skip "SIGINT on a terminal" "no script(1) to make a pty"
else
	cat >"$tmp/pty.sh" <<EOF
stty -g >"$tmp/stty.before"
(
	i=0
	while ! grep -q ready "$tmp/pty.out" 2>/dev/null && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
	sleep 0.2
	stty -a </dev/tty >"$tmp/stty.during"
	kill -INT \$(cat "$tmp/pid")
) &
sh -c 'echo \$\$ >"$tmp/pid"; exec "\$0" "\$1"' "$mkvm" "$tmp/echo.bin" >"$tmp/pty.out" 2>"$tmp/pty.err"
echo \$? >"$tmp/pty.rc"
stty -g >"$tmp/stty.after"
EOF
	# script(1) passes its stdin on to the pty, and its end as a Ctrl-D: give
	# it one that does not end (a FIFO we hold open) until the test is over.
	mkfifo "$tmp/stdin"
	exec 7<>"$tmp/stdin"
	timeout -k 5 60 script -qec "sh $tmp/pty.sh" /dev/null >/dev/null 2>&1 <"$tmp/stdin"
	exec 7>&-
	if [ ! -s "$tmp/stty.before" ] || [ ! -s "$tmp/pty.rc" ]; then
		skip "SIGINT on a terminal" "script(1) gave no working pty here"
	elif [ "$(cat "$tmp/pty.rc")" != 130 ]; then
		not_ok "SIGINT on a terminal: 130" "exit $(cat "$tmp/pty.rc")" "stderr: $(cat "$tmp/pty.err")"
	elif ! grep -q -- "-icanon" "$tmp/stty.during" || ! grep -q -- "-echo " "$tmp/stty.during"; then
		not_ok "SIGINT on a terminal: 130" "the terminal was not raw while the guest read:" \
			"$(cat "$tmp/stty.during")"
	elif [ "$(cat "$tmp/stty.before")" != "$(cat "$tmp/stty.after")" ]; then
		not_ok "SIGINT on a terminal: 130" "terminal mode not restored:" \
			"before $(cat "$tmp/stty.before")" "after  $(cat "$tmp/stty.after")"
	else
		ok "SIGINT on a terminal: 130, raw while running, mode restored"
		if [ "$(cat "$tmp/pty.out")" = ready ]; then ok "  ... and its output is on stdout"
		else not_ok "  ... and its output is on stdout" "stdout: $(cat "$tmp/pty.out")"; fi
	fi
fi

finish
