#!/bin/bash
# Tests of ci/nested-kvm, the helper VM that gives a real KVM (kvm_amd under
# QEMU/TCG) anywhere.  Runs on the HOST (not inside the helper VM) and prints
# kselftest-style TAP: exit 0 all passed, 1 some failed, 4 skipped.
#
# Each boot of the VM costs seconds, so one boot carries most checks; only
# exit status 0 and --timeout need boots of their own (3 boots in all).
#
# Skips when MINI_KVM_SKIP_NESTED_TESTS is set, when already inside the helper
# VM (MINI_KVM_NESTED=1), or when the helper cannot get what it needs (240).
#
# SPDX-License-Identifier: MIT

set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
helper=$root/ci/nested-kvm

. "$here/tap.sh"
[ -z "${MINI_KVM_SKIP_NESTED_TESTS:-}" ] || skip_all "MINI_KVM_SKIP_NESTED_TESTS is set"
[ "${MINI_KVM_NESTED:-}" != 1 ] || skip_all "already inside the nested-kvm helper VM"
[ -x "$helper" ] || skip_all "no $helper"

# Fetch and build what the VM needs first (may download on a cold cache).
prep_err=$("$helper" --prepare </dev/null 2>&1 >/dev/null); rc=$?
if [ $rc = 240 ]; then
	skip_all "the helper cannot get what it needs: $(printf '%s' "$prep_err" | grep 'nested-kvm:' | tail -n 1)"
elif [ $rc != 0 ]; then
	not_ok "ci/nested-kvm --prepare exited $rc" "$prep_err"
	finish
fi

tmp=$(mktemp -d /tmp/nested_kvm_helper.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# --- the KVM probe: build/kvm-probe when it exists, else a tiny one of ours
probe=
if [ -x "$root/build/kvm-probe" ]; then
	probe=$root/build/kvm-probe
elif command -v cc >/dev/null 2>&1; then
	cat > "$tmp/kvm-probe.c" <<'EOF'
/* KVM_CREATE_VM, one memory slot, KVM_CREATE_VCPU, a real-mode `hlt` guest. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, cpu, sz;
	if (kvm < 0) { perror("/dev/kvm"); return 1; }
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) { perror("KVM_CREATE_VM"); return 1; }
	unsigned char *mem = mmap(0, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	mem[0] = 0xf4; /* hlt */
	struct kvm_userspace_memory_region r = { .slot = 0, .guest_phys_addr = 0,
		.memory_size = 0x1000, .userspace_addr = (unsigned long)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) { perror("KVM_SET_USER_MEMORY_REGION"); return 1; }
	if ((cpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0) { perror("KVM_CREATE_VCPU"); return 1; }
	sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(0, sz, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	struct kvm_sregs s; struct kvm_regs g;
	ioctl(cpu, KVM_GET_SREGS, &s);
	s.cs.base = 0; s.cs.selector = 0;
	ioctl(cpu, KVM_SET_SREGS, &s);
	memset(&g, 0, sizeof g); g.rip = 0; g.rflags = 2;
	ioctl(cpu, KVM_SET_REGS, &g);
	if (ioctl(cpu, KVM_RUN, 0) < 0) { perror("KVM_RUN"); return 1; }
	if (run->exit_reason != KVM_EXIT_HLT) { fprintf(stderr, "exit_reason %u, not HLT\n", run->exit_reason); return 1; }
	return 0;
}
EOF
	cc -O2 -o "$tmp/kvm-probe" "$tmp/kvm-probe.c" 2>"$tmp/cc.err" && probe=$tmp/kvm-probe
fi

# --- boot 1: stdout, stderr, stdin, /dev/kvm, a KVM guest, env and cwd, /tmp; exit 7
head -c 1048576 /dev/urandom > "$tmp/big"                # 1 MiB of every byte value
printf 'first line\r\n\0binary\377 and no newline at the end' > "$tmp/in"
marker=nk-$$-$RANDOM
want_in=$(md5sum < "$tmp/in" | cut -d' ' -f1)
cd "$tmp" || exit 1
# shellcheck disable=SC2016 # expanded inside the VM
MINI_KVM_TEST_MARKER=$marker "$helper" --timeout=90 sh -c '
	printf "stdin:%s\n" "$(md5sum | cut -d" " -f1)" >&2
	cat ./big
	[ -c /dev/kvm ] && echo "kvm:yes" >&2
	if [ -n "$1" ]; then "$1" >&2; echo "probe:$?" >&2; fi
	echo "env:$MINI_KVM_NESTED:$MINI_KVM_TEST_MARKER:$(pwd)" >&2
	echo "host:$MINI_KVM_HOST" >&2
	echo x > /tmp/$MINI_KVM_TEST_MARKER && echo "tmp:writable" >&2
	exit 7' sh "$probe" < "$tmp/in" > "$tmp/out" 2> "$tmp/err"
rc=$?
cd "$root" || exit 1
err=$(cat "$tmp/err")
check "$([ $rc = 7 ]; echo $?)" "exit status passes through: sh -c 'exit 7' -> 7" "got $rc" "$err"
check "$(cmp -s "$tmp/big" "$tmp/out"; echo $?)" "1 MiB on stdout arrives byte for byte" \
	"sent $(md5sum < "$tmp/big" | cut -c1-32), got $(md5sum < "$tmp/out" | cut -c1-32) ($(stat -c %s "$tmp/out") bytes)"
check "$([ -n "$err" ] && ! grep -qa -e 'stdin:' -e 'kvm:yes' "$tmp/out" && grep -q '^stdin:' <<<"$err"; echo $?)" \
	"stderr stays apart from stdout" "$err"
check "$(grep -qx "stdin:$want_in" <<<"$err"; echo $?)" "piped stdin passes through, end included" "want stdin:$want_in" "$err"
check "$(grep -qx 'kvm:yes' <<<"$err"; echo $?)" "/dev/kvm exists inside the VM" "$err"
if [ -n "$probe" ]; then
	check "$(grep -qx 'probe:0' <<<"$err"; echo $?)" "a KVM VM runs a hlt guest inside ($(basename "$probe"))" "$err"
else
	skip "a KVM VM runs a hlt guest inside" "no build/kvm-probe and no cc"
fi
check "$(grep -qx "env:1:$marker:$tmp" <<<"$err" && grep -q '^host:nested: kvm_amd' <<<"$err"; echo $?)" \
	"environment, working directory, MINI_KVM_NESTED and MINI_KVM_HOST inside" "want env:1:$marker:$tmp" "$err"
check "$(grep -qx 'tmp:writable' <<<"$err" && [ ! -e "/tmp/$marker" ]; echo $?)" \
	"/tmp is writable inside and the host's /tmp is unchanged" "$err"

# --- boot 2: success is 0 (boot 1 showed a failure's own status)
"$helper" --timeout=90 true </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?
check "$([ $rc = 0 ] && [ ! -s "$tmp/out" ]; echo $?)" "true -> 0" "got $rc" "$(cat "$tmp/err")"

# --- boot 3: --timeout (boot included) ends the VM with 243
start=$(date +%s)
"$helper" --timeout=6 sh -c 'echo started; sleep 120' </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?
took=$(( $(date +%s) - start ))
check "$([ $rc = 243 ] && [ $took -le 16 ] && grep -q '^nested-kvm: ' "$tmp/err"; echo $?)" \
	"--timeout=6 ends the VM with 243 (took ${took} s$(grep -q started "$tmp/out" && echo ', COMMAND had started'))" \
	"got $rc" "$(cat "$tmp/err")"

finish
