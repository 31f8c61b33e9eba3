#!/bin/bash
# SPDX-License-Identifier: MIT
# fuzz/on-kvm.sh [--real-mode] COMMAND [ARG...]: run COMMAND where a KVM
# runs our guests, choosing as selftests/run_tests.sh does: this machine's
# /dev/kvm when build/kvm-probe says it is fully usable (exit 0), otherwise
# the nested-KVM helper VM (ci/nested-kvm). With --real-mode, COMMAND runs
# only real-mode guests, so a KVM that kvm-probe rates 3 (real mode only,
# e.g. kvm_pvm) is good enough too. NESTED=1 always uses the helper VM,
# NESTED=0 never does.
set -u
cd "$(dirname "$0")/.." || exit 1
real_mode=
[ "${1:-}" = --real-mode ] && { real_mode=1; shift; }
build/kvm-probe >/dev/null 2>&1
probe=$?
if [ "${NESTED:-}" != 1 ] && { [ $probe = 0 ] || [ "${NESTED:-}" = 0 ] ||
	{ [ -n "$real_mode" ] && [ $probe = 3 ]; }; }; then
	echo "# on-kvm: running here (kvm-probe exit $probe)"
	exec "$@"
fi
echo "# on-kvm: running in the nested-KVM helper VM (kvm-probe exit $probe)"
exec ci/nested-kvm --timeout="${NESTED_TIMEOUT:-900}" -- "$@"
