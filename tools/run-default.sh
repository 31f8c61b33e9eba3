#!/bin/sh
# SPDX-License-Identifier: MIT
# `make run`: the default built-in guest (the 1K OS when it is built in,
# else hello) on this machine's KVM when build/kvm-probe can run it there,
# otherwise inside the nested-KVM helper VM (ci/nested-kvm; its own exit
# statuses are 240-243), with the terminal attached either way.
# Extra arguments go to mini-kvm: tools/run-default.sh --stats
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

[ -x build/kvm-probe ] || make -s build/kvm-probe >&2 || exit 1
probe=$(build/kvm-probe 2>&1)
rc=$?
# kvm-probe: 0 usable, 3 real mode only (kvm_pvm), 4 no usable KVM.
if [ $rc = 0 ]; then
	exec ./mini-kvm "$@"
fi
if [ $rc = 3 ] && ! ./mini-kvm --list | grep -q '^os1k '; then
	exec ./mini-kvm "$@" # hello needs real mode only
fi
echo "mini-kvm: this machine's KVM cannot run the default guest ($probe); using the helper VM: ci/nested-kvm ./mini-kvm" >&2
exec ci/nested-kvm ./mini-kvm "$@"
