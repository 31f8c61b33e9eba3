#!/bin/bash
# SPDX-License-Identifier: MIT
# gdb_os1k_test: Debian's gdb against the 1K OS under mini-kvm --gdb,
# with the symbols of its ELF (built with -g): a breakpoint at a kernel
# function by name, bt, variables read through the guest's page tables,
# continue to its end; with --smp=2, both vCPUs as gdb threads, stopped
# together. gdb's own output is what is checked. Needs protected mode (the
# helper VM here). Prints kselftest TAP; exit 0, 1 or 4 (skip: as
# gdb_test.sh, or a KVM that runs real mode only).
# shellcheck disable=SC2317 # the t_* functions are called by name
# shellcheck disable=SC2016 # gdb's $1, in patterns
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/gdb.sh"
[ "$probe_rc" = 3 ] && skip_all "$probe; run it in the helper VM instead: ci/nested-kvm $0"

# In a 1K OS run: the kernel at a function by name, from the ELF's symbols.
# The function is trap_init, early in kernel_main: where this KVM reports
# no breakpoint exits (the helper VM), the stub single-steps to it, and each
# step is a VM exit.
os1k_gdb() {
	stub "$G/os1k.elf" "$@" && gdb_batch "$G/os1k.elf" "${cmds[@]}"
	ended
}

t_os1k_break_at_a_kernel_function_by_name() {
	cmds=("break trap_init" continue bt "print minikvm" "print next_pid" delete continue)
	os1k_gdb || return 1
	want 'Breakpoint 1, trap_init \(' && want '^#1 .* kernel_main \(\) at .*main\.c' &&
		want '^\$1 = (1|true)$' && want '^\$2 = 1$' && want 'exited normally' && want_rc 0
}

t_os1k_smp_vcpus_are_threads() {
	cmds=("info threads" "break trap_init" continue "thread 2" "print/x \$eflags" delete continue)
	os1k_gdb --smp=2 || return 1
	want '^\* 1 +Thread 1' && want '^  2 +Thread 2' && want 'Breakpoint 1, trap_init \(' &&
		want 'Switching to thread 2' && want '^\$1 = 0x' && want 'exited normally' && want_rc 0
}
run_cases os1k_break_at_a_kernel_function_by_name os1k_smp_vcpus_are_threads
finish
