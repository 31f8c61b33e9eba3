#!/bin/bash
# SPDX-License-Identifier: MIT
# linux_boot_test: Debian's stock kernel (the bzImage that ci/nested-kvm
# fetches; or MINI_KVM_LINUX_KERNEL) with the busybox initramfs of
# guests/linux, booted by mini-kvm to a shell on the serial console, the
# shell's commands piped in on stdin. Checks what the shell printed: uname
# -r gives the release the bzImage's own header names, /proc/cpuinfo lists
# the --smp=2 CPUs, a line sent comes back; poweroff ends mini-kvm with 0,
# and so does reboot; a panic ends it with 125, its text shown; a
# truncated bzImage is one line and 126, with nothing run. Three boots;
# nothing here measures time. Prints kselftest TAP; exit 0, 1 or 4 (skip: no command,
# no kernel, or a KVM that cannot run Linux).
set -u
here=$(cd "$(dirname "$0")" && pwd)
M=${MINI_KVM:-}
for c in "$here/../mini-kvm" "$here/mini-kvm"; do
	[ -z "$M" ] && [ -f "$c" ] && [ -x "$c" ] && M=$c
done
# shellcheck source=selftests/tap.sh
. "$here/tap.sh"
{ [ -n "$M" ] && [ -x "$M" ]; } || skip_all "no mini-kvm command (build it, or set MINI_KVM)"

# The kernel: the newest that ci/nested-kvm.d/prepare unpacked into its cache.
cache=${MINI_KVM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/mini-kvm}
K=${MINI_KVM_LINUX_KERNEL:-}
for c in "$cache"/kernel/*/vmlinuz; do
	[ -z "${MINI_KVM_LINUX_KERNEL:-}" ] && [ -s "$c" ] && K=$c
done
{ [ -n "$K" ] && [ -s "$K" ]; } || skip_all "no Linux kernel: run ci/nested-kvm.d/prepare, or set MINI_KVM_LINUX_KERNEL"

# kvm_pvm runs real mode only; run_tests.sh then runs us in the helper VM.
for probe in "$here/../build/kvm-probe" "$here/../kvm-probe"; do
	[ -x "$probe" ] || continue
	why=$("$probe" 2>&1) || skip_all "this KVM cannot run Linux ($why); run it in the helper VM: ci/nested-kvm $0"
	break
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
initrd=${MINI_KVM_LINUX_INITRD:-}
if [ -z "$initrd" ]; then
	for root in "$here/.." "$here/../../.."; do
		[ -z "$initrd" ] && [ -x "$root/guests/linux/mkinitramfs.sh" ] &&
			"$root/guests/linux/mkinitramfs.sh" "$tmp/initramfs.cpio" && initrd=$tmp/initramfs.cpio
	done
fi
{ [ -n "$initrd" ] && [ -s "$initrd" ]; } || skip_all "no initramfs: guests/linux/mkinitramfs.sh (busybox-static) is needed"

# The release the kernel says it is: the string its setup header points to.
kver_off=$(od -An -tu2 -j $((0x20e)) -N2 "$K" | tr -d ' ')
release=$(dd if="$K" bs=1 skip=$((0x200 + kver_off)) count=200 2>/dev/null | tr '\0' '\n' | head -n1 | cut -d' ' -f1)

APPEND="console=ttyS0 reboot=k,cold,panic_warm panic=-1 pci=off quiet"
# boot NAME INPUT [OPTIONS...]: output in $tmp/NAME.out, status in $tmp/NAME.rc
boot() {
	name=$1 input=$2
	shift 2
	printf '%b' "$input" | "$M" --timeout=150 --initrd="$initrd" --append="$APPEND" "$@" "$K" \
		>"$tmp/$name.out" 2>&1
	echo $? >"$tmp/$name.rc"
}
has() { tr -d '\r' <"$tmp/$1.out" | grep -q -- "$2"; }
tail_of() { tr -d '\r' <"$tmp/$1.out" | tail -n 15; }

marker="echo-$$-$RANDOM"
boot shell "uname -r\necho $marker\ngrep -c ^processor /proc/cpuinfo\npoweroff\n" --smp=2
has shell "mini-kvm initramfs:"
check $? "the initramfs's first line appears" "$(tail_of shell)"
tr -d '\r' <"$tmp/shell.out" | grep -qx -- "$release"
check $? "uname -r prints the bzImage's own release ($release)" "$(tail_of shell)"
tr -d '\r' <"$tmp/shell.out" | grep -v "echo $marker" | grep -qx -- "$marker"
check $? "a line sent on stdin comes back from echo" "$(tail_of shell)"
tr -d '\r' <"$tmp/shell.out" | grep -qx 2
check $? "/proc/cpuinfo lists the 2 CPUs of --smp=2" "$(tail_of shell)"
[ "$(cat "$tmp/shell.rc")" = 0 ] && has shell "reboot: Power down"
check $? "poweroff ends mini-kvm with status 0 (was $(cat "$tmp/shell.rc"))" "$(tail_of shell)"

boot reboot "reboot\n"
[ "$(cat "$tmp/reboot.rc")" = 0 ] && has reboot "reboot: Restarting system"
check $? "reboot ends mini-kvm with status 0 (was $(cat "$tmp/reboot.rc"))" "$(tail_of reboot)"

boot panic "echo c > /proc/sysrq-trigger\n"
[ "$(cat "$tmp/panic.rc")" = 125 ] && has panic "Kernel panic - not syncing" &&
	has panic "reset itself after a panic"
check $? "a panic ends mini-kvm with 125, the panic's text shown (was $(cat "$tmp/panic.rc"))" "$(tail_of panic)"

head -c 1000000 "$K" >"$tmp/truncated"
err=$("$M" --timeout=20 "$tmp/truncated" 2>&1 </dev/null)
rc=$?
[ "$rc" = 126 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && printf '%s' "$err" | grep -q truncated
check $? "a truncated bzImage: one line and 126 (was $rc), nothing run" "$err"
finish
