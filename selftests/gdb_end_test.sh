#!/bin/bash
# SPDX-License-Identifier: MIT
# gdb_end_test: how a session under mini-kvm --gdb ends, as Debian's gdb
# sees it, on real-mode guests (any KVM, kvm_pvm too): kill (mini-kvm
# exits 137), detach (the guest runs on to its own end), the guest's exit
# status and a crash; then bad input: malformed packets, a client that goes
# mid-packet (the guest runs on), and a port in use (one line, 126). The
# debugging itself: gdb_test.sh. Prints kselftest TAP; exit 0, 1 or 4
# (skip: no command, no gdb, no python3, or no usable KVM).
# shellcheck disable=SC2317 # the t_* functions are called by name
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/gdb.sh"
# exit3: HC_EXIT with status 3 (mov $3,%ebx; mov $HC_EXIT,%al; mov $HC_PORT,%dx; out).
printf '\x66\xbb\x03\x00\x00\x00\xb0\x00\xba\x00\x05\xee' >"$tmp/exit3.bin"
# triple: lidt and lgdt of an empty table, PE on, a far jump: a triple fault.
printf '\x0f\x01\x1e\x20\x00\x0f\x01\x16\x20\x00\x0f\x20\xc0\x0c\x01\x0f\x22\xc0\xea\x20\x00\x08\x00\xf4' >"$tmp/triple.bin"
truncate -s 38 "$tmp/triple.bin"
seg_done="segments: 3 x 7 = 21 at CS=0x20, and the guest's own int3 handled"

t_kill_ends_with_137() {
	seg "break add_seven" continue kill
	ended
	want 'Remote target\) killed' && want_rc 137 &&
		{ grep -q 'killed by gdb' "$err" || { fail_why+="stderr does not say 'killed by gdb'; "; false; }; }
}

t_detach_lets_the_guest_run_on() {
	seg "break add_seven" continue detach
	ended
	want 'Remote target\) detached' && want_rc 0 && want_out "$seg_done"
}

t_the_guests_exit_status() {
	stub "$tmp/exit3.bin" && gdb_batch - continue
	ended
	want 'exited with code 03' && want_rc 3
}

t_a_crash() {
	stub "$tmp/triple.bin" && gdb_batch - continue
	ended
	want 'Program terminated with signal SIGSEGV' && want_rc 125
}

# Raw RSP, no gdb: a bad checksum is NAKed, memory outside the guest is
# an error reply, an unknown packet an empty one, bytes outside a packet
# are ignored; then the client goes mid-packet and the guest runs on.
t_malformed_packets_and_a_client_that_goes() {
	stub segments || return 1
	python3 - "$sock" >"$gout" 2>&1 <<'EOF' || fail_why+="$(tail -1 "$gout"); "
import socket, sys

s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(20)

def packet(body):
    return b"$%s#%02x" % (body, sum(body) % 256)

def reply():
    buf = b""
    while not (b"#" in buf and len(buf) >= buf.index(b"#") + 3):
        buf += s.recv(1)
    s.sendall(b"+")
    return buf[buf.index(b"$") + 1 : buf.index(b"#")]

s.sendall(b"$g#00")
nak = s.recv(1)
assert nak == b"-", f"a bad checksum got {nak!r}, not '-'"
for body, want in ((b"m7ffffff0,4", b"E"), (b"qNoSuchQuery", b""), (b"?", b"T05")):
    s.sendall(b"junk" + packet(body))
    assert s.recv(1) == b"+", f"{body!r} was not acknowledged"
    got = reply()
    ok = got.startswith(want) if want else got == b""
    assert ok, f"{body!r} got {got!r}, want {want!r}..."
s.sendall(b"$m0,4")  # and gone, mid-packet
s.close()
print("ok")
EOF
	ended
	[ -z "$fail_why" ] && want_rc 0 && want_out "$seg_done"
}

t_a_port_in_use_is_one_line_and_126() {
	local port lines
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print(flush=True); time.sleep(60)' "$port" >"$tmp/held" &
	local holder=$!
	for _ in $(seq 100); do [ -s "$tmp/held" ] && break; sleep 0.05; done
	"$M" --gdb="$port" segments </dev/null >"$out" 2>"$err"
	rc=$?
	kill "$holder"
	wait "$holder" 2>/dev/null
	lines=$(wc -l <"$err")
	if [ "$lines" != 1 ] || ! grep -q "$port" "$err" || [ -s "$out" ]; then
		fail_why+="want one line naming port $port on stderr, none on stdout; "
		return 1
	fi
	want_rc 126
}

run_cases kill_ends_with_137 detach_lets_the_guest_run_on the_guests_exit_status a_crash \
	malformed_packets_and_a_client_that_goes a_port_in_use_is_one_line_and_126
finish
