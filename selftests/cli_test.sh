#!/bin/bash
# SPDX-License-Identifier: MIT
# cli_test: the mini-kvm command line as a user meets it, where a KVM is
# needed: a crash (125), a timeout (124), a guest's own status, stdin's
# end, --stats, options after guests, several guests, signals, colour, the
# no-/dev/kvm message, and a bad image named before it there (the command
# checks every image before it opens /dev/kvm), the seccomp filter on by
# default and off with --no-seccomp (the filter itself: selftests/seccomp).
# --help, --version, --list,
# the bad command lines and the bad images need no KVM: usage_test.sh.
# Small guest images are written here with printf; each run costs a VM, so
# there are few of them. Prints kselftest TAP; exit 0, 1 or 4 (skip: no
# command, or no usable KVM).
# shellcheck disable=SC2317 # the t_* functions are called by name
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
need_mini_kvm
need_kvm

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out err=$tmp/err

# Hand-assembled guests (real mode unless named p*).
# triple: lidt and lgdt of an empty table, PE on, a far jump to selector 8:
# #GP with no IDT is a triple fault on every KVM.
printf '\x0f\x01\x1e\x20\x00\x0f\x01\x16\x20\x00\x0f\x20\xc0\x0c\x01\x0f\x22\xc0\xea\x20\x00\x08\x00\xf4' >"$tmp/triple.bin"
truncate -s 38 "$tmp/triple.bin"
printf '\xeb\xfe' >"$tmp/loop.bin" # jmp .
# exit7: mov $7,%ebx; mov $HC_EXIT,%al; mov $0x500,%dx; out %al,(%dx)
printf '\x66\xbb\x07\x00\x00\x00\xb0\x00\xba\x00\x05\xee' >"$tmp/exit7.bin"
# partial: HC_WRITE "partial" (no newline), then jmp . until a signal
printf '\x66\xbb\x14\x00\x00\x00\x66\xb9\x07\x00\x00\x00\xb0\x03\xba\x00\x05\xee\xeb\xfepartial' >"$tmp/partial.bin"
# pmultiboot (32-bit): exit 0 when EAX is 0x2BADB002 and the info at EBX
# says mem_upper = 15360 KiB (16M), 1 on a bad magic, 2 on a bad size.
printf '\x3d\x02\xb0\xad\x2b\x75\x0f\x8b\x4b\x08\x81\xf9\x00\x3c\x00\x00\x75\x0b\x31\xdb\xeb\x0c\xbb\x01\x00\x00\x00\xeb\x05\xbb\x02\x00\x00\x00\xb0\x00\x66\xba\x00\x05\xee' >"$tmp/pmultiboot.bin"
printf '\xe4\x80\xf4' >"$tmp/port.bin" # in $0x80,%al (no device there); hlt
# esc: HC_WRITE "A ESC[6n B" (a terminal query: where is the cursor?), hlt
printf '\x66\xbb\x14\x00\x00\x00\x66\xb9\x07\x00\x00\x00\xb0\x03\xba\x00\x05\xee\xf4\xf4A\x1b[6nB\n' >"$tmp/esc.bin"
# flood: HC_WRITE 4 KiB, for ever
printf '\x66\xbb\x00\x00\x00\x00\x66\xb9\x00\x10\x00\x00\xb0\x03\xba\x00\x05\xee\xeb\xf8' >"$tmp/flood.bin"
# badhc: a 16-bit out to the hypercall port, which takes one byte
printf '\xb8\x00\x00\xba\x00\x05\xef' >"$tmp/badhc.bin"

# mk ARGS...: runs mini-kvm, stdin from /dev/null; sets rc, out, err.
mk() {
	"$M" "$@" </dev/null >"$out" 2>"$err"
	rc=$?
}

# The checks a test makes; each failure explains itself as a '#' line.
fail_why=
want_rc() { [ "$rc" = "$1" ] || { fail_why+="exit status $rc, want $1; "; return 1; }; }
want_err() { grep -q -- "$1" "$err" || { fail_why+="stderr lacks '$1'; "; return 1; }; }
want_out() { grep -q -- "$1" "$out" || { fail_why+="stdout lacks '$1'; "; return 1; }; }
want_err_lines() {
	[ "$(wc -l <"$err")" = "$1" ] || { fail_why+="stderr has $(wc -l <"$err") lines, want $1; "; return 1; }
}

t_triple_fault() {
	mk "$tmp/triple.bin"
	want_rc 125 && want_err "triple.bin: crashed: KVM_EXIT_SHUTDOWN" && want_err "eax=" &&
		want_err "cr0=" && want_err "code at" && want_err "hint: triple fault"
}
t_bad_hypercall() { mk "$tmp/badhc.bin"; want_rc 125 && want_err "crashed: bad hypercall" && want_err "hint:"; }
t_empty_bus() {
	mk "$tmp/port.bin"
	want_rc 0 || return 1
	mk --strict-bus "$tmp/port.bin"
	want_rc 125 && want_err "crashed: port read at 0x80: no device there"
}
t_timeout() { mk --timeout=0.3 "$tmp/loop.bin"; want_rc 124 && want_err "timed out after 0.300 s"; }
t_hc_exit_7() { mk "$tmp/exit7.bin"; want_rc 7; }
t_stdin_eof() {
	printf 'one\ntwo\nthree' | "$M" hctest >"$out" 2>"$err"
	rc=$?
	want_rc 3 && want_out '^three$' && want_out "3 lines read, exit status 3"
}
t_stats() {
	mk --stats hello
	want_rc 0 && want_err "KVM_EXIT_IO=1" && want_err "KVM_EXIT_HLT=1" && want_err "HC_WRITE=1" &&
		want_err "first guest instruction at"
}
t_options_after_guests() { mk hello --stats --timeout 5 --mem 64K; want_rc 0 && want_out "Hello, KVM!" && want_err "HC_WRITE=1"; }
t_verbose() { mk -v hello; want_rc 0 && want_err "KVM_EXIT_IO out port 0x500" && want_err "KVM_EXIT_HLT"; }
t_several_guests() {
	mk "$tmp/exit7.bin" hello counter
	want_rc 7 && want_out '^hello| Hello, KVM!$' && want_out '^counter| 9$' || return 1
	[ "$(grep -vc '^hello| \|^counter| ' "$out")" = 0 ] || { fail_why+="unprefixed lines; "; return 1; }
}
# -v logs each exit before it is handled: once the HC_WRITE's is on stderr,
# "partial" is the command's to flush, however slow this machine is.
t_sigterm_flushes() {
	"$M" -v "$tmp/partial.bin" </dev/null >"$out" 2>"$err" &
	local pid=$! i=0
	until grep -q "port 0x500" "$err" || [ "$i" = 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	want_rc 143 || return 1
	[ "$(cat "$out")" = partial ] || { fail_why+="stdout '$(cat "$out")'; "; return 1; }
}
t_sigint() {
	timeout --preserve-status -s INT 0.5 "$M" "$tmp/loop.bin" </dev/null >"$out" 2>"$err"
	rc=$?
	want_rc 130 && want_err "SIGINT"
}
# script(1) gives mini-kvm a terminal for stdout: prefixes get colour.
t_colour() {
	command -v script >/dev/null || { skip_why="no script(1)"; return 1; }
	script -qec "'$M' hello counter" /dev/null </dev/null >"$out" 2>"$err"
	rc=$?
	grep -qF $'\e[36mhello|\e[0m Hello, KVM!' "$out" ||
		{ fail_why+="no coloured prefix on a terminal; "; return 1; }
	script -qec "'$M' --no-color hello counter" /dev/null </dev/null >"$out" 2>"$err"
	! grep -qF $'\e[' "$out" || { fail_why+="colour despite --no-color; "; return 1; }
	NO_COLOR=1 script -qec "'$M' hello counter" /dev/null </dev/null >"$out" 2>"$err"
	! grep -qF $'\e[' "$out" || { fail_why+="colour despite NO_COLOR; "; return 1; }
	want_out "^hello| Hello, KVM!"
}
# no_dev ARGS...: mk in a mount namespace whose /dev is an empty tmpfs.
no_dev() {
	unshare -m true 2>/dev/null || { skip_why="cannot unshare a mount namespace here"; return 1; }
	unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh "$M" "$@" >"$out" 2>"$err"
	rc=$?
}
t_no_dev_kvm() {
	no_dev hello || return 1
	want_rc 126 && want_err_lines 1 && want_err "/dev/kvm" && want_err "ci/nested-kvm"
}
# Without /dev/kvm too, what is wrong with the image comes first.
t_no_dev_kvm_bad_image() {
	no_dev "$tmp/nosuch.bin" || return 1
	want_rc 126 && want_err_lines 1 && want_err "^mini-kvm: $tmp/nosuch.bin: No such file or directory$"
}
# A closed stdin is replaced by /dev/null; where there is none, one line says so.
t_closed_stdin_and_no_dev_null() {
	unshare -m true 2>/dev/null || { skip_why="cannot unshare a mount namespace here"; return 1; }
	unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@" <&-' sh "$M" hello >"$out" 2>"$err"
	rc=$?
	want_rc 126 && want_err_lines 1 && want_err "^mini-kvm: stdin is closed, and /dev/null cannot stand in for it"
}
# Once the guest runs, /dev/kvm is closed: only the VM's and vCPU's own fds stay.
t_dev_kvm_closed() {
	fifo=$tmp/stdin.fifo
	rm -f "$fifo" && mkfifo "$fifo" || return 1
	"$M" hctest <"$fifo" >"$out" 2>"$err" &
	pid=$!
	exec 9>"$fifo"
	while ! grep -q . "$out" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	fds=$(ls -l "/proc/$pid/fd" 2>/dev/null)
	exec 9>&-
	wait "$pid"
	rc=$?
	printf '%s\n' "$fds" | grep -q 'anon_inode:kvm-vcpu' || { fail_why="no vCPU fd seen: $fds"; return 1; }
	! printf '%s\n' "$fds" | grep -q '/dev/kvm' || { fail_why="/dev/kvm still open: $fds"; return 1; }
}
# On a terminal a guest's escape sequence is shown, not obeyed (the
# terminal would answer this one as if typed); --raw-console and a pipe get
# the bytes as written (issue 19, item 1).
t_terminal_escapes_shown() {
	command -v script >/dev/null || { skip_why="no script(1)"; return 1; }
	script -qec "'$M' '$tmp/esc.bin'" /dev/null </dev/null >"$out" 2>"$err"
	grep -qF 'A^[[6nB' "$out" || { fail_why="a terminal got: $(od -c "$out" | head -2)"; return 1; }
	! grep -q $'\e' "$out" || { fail_why="a raw ESC reached the terminal"; return 1; }
	script -qec "'$M' --raw-console '$tmp/esc.bin'" /dev/null </dev/null >"$out" 2>"$err"
	grep -qF $'A\e[6nB' "$out" || { fail_why="--raw-console got: $(od -c "$out" | head -2)"; return 1; }
	mk "$tmp/esc.bin"
	[ "$(cat "$out")" = $'A\e[6nB' ] || { fail_why="a pipe got: $(od -c "$out" | head -2)"; return 1; }
}
# A stdout that nobody reads (a FIFO held open, never read) does not hold
# the guest past its time limit: 124, with a note of what was dropped
# (issue 19, item 2). The outer timeout only catches a hang.
t_timeout_while_stdout_blocked() {
	fifo=$tmp/out.fifo
	rm -f "$fifo" && mkfifo "$fifo" || return 1
	exec 8<>"$fifo"
	timeout -s KILL 60 "$M" --timeout=1 "$tmp/flood.bin" </dev/null >"$fifo" 2>"$err"
	rc=$?
	exec 8>&-
	want_rc 124 && want_err "timed out" && want_err "dropped: stdout was not being read"
}
# seccomp_mode ARGS...: the Seccomp: line of /proc/PID/status of mini-kvm
# ARGS loop.bin, read once its vCPU runs: set-up and the filter's
# installation are over then.
seccomp_mode() {
	local pid
	"$M" --timeout=30 "$@" "$tmp/loop.bin" </dev/null >"$out" 2>"$err" &
	pid=$!
	vcpu_running "$pid"
	awk '/^Seccomp:/ { print $2 }' "/proc/$pid/status"
	kill "$pid"
	wait "$pid"
}
# 2 is SECCOMP_MODE_FILTER, 0 none. The sanitizer build has no filter.
t_seccomp_on_by_default() {
	local on off
	grep -qa __asan_init "$M" && { skip_why="the sanitizer build runs without the filter"; return 1; }
	on=$(seccomp_mode) off=$(seccomp_mode --no-seccomp)
	[ "$on" = 2 ] && [ "$off" = 0 ] && return 0
	fail_why="Seccomp: $on by default, $off with --no-seccomp; want 2 and 0"
	return 1
}
t_protected_multiboot() {
	[ "$probe_rc" = 3 ] && { skip_why="$probe; run it in the helper VM instead: ci/nested-kvm $0"; return 1; }
	mk --mode=protected "$tmp/pmultiboot.bin"
	want_rc 0
}

tests="closed_stdin_and_no_dev_null triple_fault bad_hypercall empty_bus timeout hc_exit_7 stdin_eof stats
options_after_guests verbose several_guests sigterm_flushes sigint colour no_dev_kvm
no_dev_kvm_bad_image dev_kvm_closed terminal_escapes_shown timeout_while_stdout_blocked
seccomp_on_by_default protected_multiboot"
# shellcheck disable=SC2086 # $tests: the case names, one word each
run_cases $tests
finish
