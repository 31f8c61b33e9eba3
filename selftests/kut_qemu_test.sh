#!/bin/sh
# SPDX-License-Identifier: MIT
# kut_qemu_test: tools/kut-qemu (tools/kut-qemu.c), the QEMU command line
# that kvm-unit-tests' runner builds, turned into mini-kvm's (KUT_QEMU_PRINT=1 prints it): the
# suite's own lines as x86/run and unittests.cfg write them, -cpu handed
# to --cpu as it is, -machine pit=off as --no-pit; and each option that
# mini-kvm cannot honour refused with one line that names it, before the
# runner's probe kernel (_NO_FILE_4Uhere_) is looked at, so that the
# runner reports the test as SKIP with that line. A missing kernel gives
# the line the runner looks for. Needs no KVM: run on the host. TAP.
set -u -f
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
kq="$here/../tools/kut-qemu"
if [ ! -x "$here/../build/kut-qemu" ] || [ ! -x "$here/../mini-kvm" ]; then
	skip_all "no build/kut-qemu and mini-kvm beside $here (make builds them)"
fi
kernel=$(mktemp)
trap 'rm -f "$kernel"' EXIT
# What x86/run passes before the test's own options.
base="--no-reboot -nodefaults -global kvm-pit.lost_tick_policy=discard -device pc-testdev
 -device isa-debug-exit,iobase=0xf4,iosize=0x4 -display none -serial stdio -machine accel=kvm"

# same NAME WANT ARGS...: kut-qemu ARGS prints exactly WANT (the kernel as K).
same() {
	name=$1 want=$2
	shift 2
	# shellcheck disable=SC2086 # $base: the runner's words
	got=$(KUT_QEMU_PRINT=1 "$kq" $base "$@" 2>&1 | sed "s|$kernel|K|g; s|^.*/mini-kvm |mini-kvm |")
	if [ "$got" = "$want" ]; then ok "$name"; else not_ok "$name" "got: $got" "want: $want"; fi
}
# refused NAME ERE ARGS...: kut-qemu ARGS exits 1 with one line matching ERE.
refused() {
	name=$1 re=$2
	shift 2
	# shellcheck disable=SC2086
	err=$(KUT_QEMU_PRINT=1 "$kq" $base "$@" 2>&1 >/dev/null)
	rc=$?
	lines=$(printf '%s\n' "$err" | wc -l)
	if [ "$rc" = 1 ] && [ "$lines" = 1 ] && printf '%s\n' "$err" | grep -qE -- "$re"; then
		ok "$name" "$err"
	else
		not_ok "$name" "exit $rc, $lines lines: $err" "want one line /$re/"
	fi
}

same "a plain test" \
	"mini-kvm --mem=128M --smp=1 --device=pc-testdev,debug-exit -- K" -kernel "$kernel"
same "smp, memory, arguments and the environment" \
	"mini-kvm --mem=256M --smp=3 --device=pc-testdev,debug-exit '--append=ipi x' --initrd=/e -- K" \
	-kernel "$kernel" -smp 3 -m 256 -append "ipi x" -initrd /e
same "-cpu as --cpu" \
	"mini-kvm --mem=128M --smp=1 --device=pc-testdev,debug-exit --cpu=qemu64,-pcid,+invpcid -- K" \
	-kernel "$kernel" -cpu qemu64,-pcid,+invpcid
same "-machine pit=off as --no-pit" \
	"mini-kvm --mem=128M --smp=2 --device=pc-testdev,debug-exit --no-pit -- K" \
	-kernel "$kernel" -smp 2 -machine pit=off
refused "the probe kernel" "could not load kernel '_NO_FILE_4Uhere_'" -kernel _NO_FILE_4Uhere_
refused "-cpu IvyBridge, before the probe kernel" \
	"^kut-qemu: -cpu IvyBridge,phys-bits=36: unknown CPU model 'IvyBridge'" \
	-kernel _NO_FILE_4Uhere_ -cpu IvyBridge,phys-bits=36
same "-cpu max,host-phys-bits, what mini-kvm's CPUs have anyway" \
	"mini-kvm --mem=128M --smp=1 --device=pc-testdev,debug-exit --cpu=max,host-phys-bits -- K" \
	-kernel "$kernel" -cpu max,host-phys-bits
refused "-cpu max,host-phys-bits=off" "^kut-qemu: -cpu max,host-phys-bits=off: host-phys-bits=off" \
	-kernel _NO_FILE_4Uhere_ -cpu max,host-phys-bits=off
refused "-machine vmport=on" "^kut-qemu: -machine vmport=on: mini-kvm has no machine property" \
	-kernel "$kernel" -machine vmport=on
refused "-device pci-testdev" "^kut-qemu: -device pci-testdev: mini-kvm has no such device" \
	-kernel "$kernel" -device pci-testdev
refused "an option mini-kvm lacks" "^kut-qemu: -overcommit cpu-pm=on: an option mini-kvm does" \
	-kernel "$kernel" -overcommit cpu-pm=on
refused "-m 4g" "^kut-qemu: -m 4g: mini-kvm gives a guest at most 3 GiB" -kernel "$kernel" -m 4g
# The runner's MAX_SMP probe reads the maximum from the end of the line.
refused "-smp 64, the runner's probe" "SMP CPUs 64 exceed mini-kvm's maximum \\(8\\)$" \
	-kernel _NO_FILE_4Uhere_ -smp 64
devices=$("$kq" -device '?')
case $devices in
*'"pc-testdev"'*'"isa-debug-exit"'*) ok "-device ? lists pc-testdev and isa-debug-exit" ;;
*) not_ok "-device ? lists pc-testdev and isa-debug-exit" "got: $devices" ;;
esac
case $devices in
*pci-testdev*) not_ok "-device ? has no pci-testdev" "got: $devices" ;;
*) ok "-device ? has no pci-testdev" ;;
esac
finish
