#!/bin/bash
# SPDX-License-Identifier: MIT
# fuzz/on-kvm.sh COMMAND [ARG...]: run COMMAND where a KVM runs our guests,
# choosing as selftests/run_tests.sh does: this machine's /dev/kvm when
# build/kvm-probe says it is fully usable (exit 0), otherwise (or with
# NESTED=1) the nested-KVM helper VM (ci/nested-kvm). NESTED=0 never uses
# the helper: COMMAND then runs here, on whatever KVM there is (real-mode
# guests also run on a KVM that kvm-probe rates 3).
set -u
cd "$(dirname "$0")/.." || exit 1
build/kvm-probe >/dev/null 2>&1
probe=$?
if [ "${NESTED:-}" != 1 ] && { [ $probe = 0 ] || [ "${NESTED:-}" = 0 ]; }; then
	echo "# on-kvm: running here (kvm-probe exit $probe)"
	exec "$@"
fi
echo "# on-kvm: running in the nested-KVM helper VM (kvm-probe exit $probe)"
exec ci/nested-kvm --timeout="${NESTED_TIMEOUT:-900}" -- "$@"
