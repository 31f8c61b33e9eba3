#!/bin/bash
# SPDX-License-Identifier: MIT
# gdb_test: Debian's real gdb, in batch mode, against mini-kvm --gdb; what
# is checked is gdb's own output (and mini-kvm's exit status), never the
# stub's word. On the built-in real-mode guest `segments`, which runs at
# CS = 0x20 (any KVM, kvm_pvm too): stderr says what to type; a breakpoint
# at a label is hit where its symbol is (gdb's PC is CS.base + IP), a step
# and a register read after it; a hardware breakpoint; the guest's own
# int3 stays the guest's; memory and registers read and written, and an
# address outside guest memory refused; Ctrl-C stops a running guest; and
# without --gdb no socket and no debug exit. How sessions end, and bad
# input: gdb_end_test.sh; the 1K OS: gdb_os1k_test.sh. Prints TAP; exit
# 0, 1 or 4 (skip: no command, no gdb, no python3, or no usable KVM).
# shellcheck disable=SC2317 # the t_* functions are called by name
# shellcheck disable=SC2016 # gdb's $1 and $pc, in patterns
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/gdb.sh"
printf '\x90\xeb\xfd' >"$tmp/loop.bin" # nop; jmp back
seg_done="segments: 3 x 7 = 21 at CS=0x20, and the guest's own int3 handled"

t_says_what_to_type() {
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	where=$port stub segments || return 1
	grep -q "127.0.0.1:$port.*set architecture i8086, then target remote :$port" "$err" ||
		{ fail_why+="stderr does not say 'set architecture i8086, then target remote :$port'; "; }
	target=:$port gdb_batch "$G/segments.elf" continue
	ended
	[ -z "$fail_why" ] && want 'exited normally' && want_rc 0 && want_out "$seg_done"
}

t_break_at_a_label_at_segment_0x20() {
	seg "break add_seven" continue "info registers cs" stepi "print \$ax" delete continue
	ended
	want 'Breakpoint 1, 0x00000207 in add_seven' && want '^cs +0x20 ' &&
		want '^0x0000020a in add_seven' && want '^\$1 = 7$' &&
		want 'exited normally' && want_rc 0 && want_out "$seg_done"
}

t_hardware_breakpoint() {
	seg "hbreak own_int3" continue "print \$ax" delete continue
	ended
	want 'Breakpoint 1, 0x0000020d in own_int3' && want '^\$1 = 21$' && want_rc 0
}

# A breakpoint beyond the guest's own int3: that int3 reaches its handler (SI = 1).
t_the_guests_own_int3_is_the_guests() {
	seg "break done" continue "print \$si" continue
	ended
	want 'Breakpoint 1, 0x0000022a in done' && want '^\$1 = 1$' &&
		want_not 'SIGTRAP' && want_rc 0 && want_out "$seg_done"
}

t_memory_and_registers() {
	seg "x/2xb seg_main" "set {unsigned char}0x9000 = 0x5a" "x/1xb 0x9000" \
		"x/4xb 0x7ffffff0" "set \$ecx = 0x1234" "print/x \$ecx" continue
	ended
	want '<seg_main>:.0x31.0xc0' && want '^0x9000:.0x5a' &&
		want 'Cannot access memory at address 0x7ffffff0' && want '^\$1 = 0x1234$' && want_rc 0
}


# Ctrl-C is SIGINT to gdb, once the guest runs.
# ctrl_c UNTIL: gdb continues the stub's guest, gets SIGINT (Ctrl-C) once
# UNTIL returns, reads $pc and kills the guest.
ctrl_c() {
	local gdb_pid watchdog
	gdb_args - continue "print/x \$pc" kill
	gdb "${gdb_argv[@]}" </dev/null >"$gout" 2>&1 &
	gdb_pid=$!
	"$@"
	kill -INT "$gdb_pid"
	# A gdb that missed it is not waited for until mini-kvm's time limit.
	{ sleep 60 && kill "$gdb_pid"; } >/dev/null 2>&1 &
	watchdog=$!
	wait "$gdb_pid"
	kill "$watchdog" 2>/dev/null
	ended
}

t_ctrl_c_stops_a_running_guest() {
	stub "$tmp/loop.bin" || return 1
	ctrl_c vcpu_running "$(stub_pid)"
	want 'Program received signal SIGINT' && want '^\$1 = 0x[01]$' && want_rc 137
}

# printed TEXT: returns once the guest has printed TEXT.
printed() {
	for _ in $(seq 600); do
		grep -qF "$1" "$out" && return 0
		sleep 0.05
	done
	return 1
}

# hctest at its HC_GETCHAR, on a stdin that stays open and empty: the vCPU
# waits in mini-kvm's console, not in KVM_RUN, and stops there.
t_ctrl_c_stops_a_guest_waiting_for_input() {
	local rc_stub
	rm -f "$tmp/in" && mkfifo "$tmp/in" && exec 7<>"$tmp/in"
	input=$tmp/in stub hctest
	rc_stub=$?
	[ "$rc_stub" = 0 ] && ctrl_c printed "echoing input until HC_EOF"
	exec 7>&-
	[ "$rc_stub" = 0 ] && want 'Program received signal SIGINT' && want '^\$1 = 0x' && want_rc 137
}

# fd_sockets PID: how many sockets mini-kvm has open.
fd_sockets() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l; }

t_without_gdb_no_socket_and_no_debug_exit() {
	local with without
	"$M" --stats segments </dev/null >"$out" 2>"$err"
	rc=$?
	want_rc 0 || return 1
	if ! grep -q 'exits:.*KVM_EXIT_HLT' "$err" || grep -q 'KVM_EXIT_DEBUG' "$err"; then
		fail_why+="--stats without --gdb: $(grep exits: "$err"); "
		return 1
	fi
	"$M" --timeout=20 "$tmp/loop.bin" </dev/null >"$out" 2>"$err" &
	mk_pid=$!
	vcpu_running "$mk_pid"
	without=$(fd_sockets "$mk_pid")
	kill "$mk_pid"
	ended
	stub "$tmp/loop.bin" || return 1
	with=$(fd_sockets "$(stub_pid)")
	kill "$mk_pid"
	ended
	if [ "$without" != 0 ] || [ "$with" -lt 1 ]; then
		fail_why+="sockets open: $without without --gdb, $with with it; "
		return 1
	fi
}

run_cases says_what_to_type break_at_a_label_at_segment_0x20 hardware_breakpoint \
	the_guests_own_int3_is_the_guests memory_and_registers ctrl_c_stops_a_running_guest \
	ctrl_c_stops_a_guest_waiting_for_input without_gdb_no_socket_and_no_debug_exit
finish
