#!/bin/sh
# SPDX-License-Identifier: MIT
# `make linux`: Debian's kernel (the one ci/nested-kvm fetches, unpacked
# and never installed) with the busybox initramfs of guests/linux, to an
# interactive shell; on this machine's KVM when build/kvm-probe says it
# runs protected mode, else in the helper VM. Extra arguments go to
# mini-kvm, before the kernel: tools/run-linux.sh --smp=2
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

initrd=build/linux/initramfs.cpio
[ -s "$initrd" ] || guests/linux/mkinitramfs.sh "$initrd" || exit 1
kdir=$(ci/nested-kvm.d/prepare | sed -n 1p) || exit 1
kernel=$kdir/vmlinuz
[ -s "$kernel" ] || { echo "mini-kvm: no kernel: ci/nested-kvm.d/prepare failed" >&2; exit 1; }
[ -x build/kvm-probe ] || make -s build/kvm-probe >&2 || exit 1
if build/kvm-probe >/dev/null 2>&1; then
	exec ./mini-kvm --initrd="$initrd" "$@" "$kernel"
fi
echo "mini-kvm: this machine's KVM cannot run Linux ($(build/kvm-probe 2>&1)); using the helper VM: ci/nested-kvm ./mini-kvm" >&2
exec ci/nested-kvm ./mini-kvm --initrd="$initrd" "$@" "$kernel"
