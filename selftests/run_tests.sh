#!/bin/bash
# SPDX-License-Identifier: MIT
# The suite runner behind `make run_tests`: kselftest-runner-style TAP.
#
#   selftests/run_tests.sh TEST...           choose a KVM, run everything
#   selftests/run_tests.sh --inner=N TEST... run TESTs here, numbered from
#                                            N+1, no header (inside the VM)
#
# Where the tests run: on this machine's /dev/kvm when build/kvm-probe can
# run our guests on it (real mode, and an iret in protected mode, which
# kvm_pvm cannot emulate); otherwise, or with NESTED=1, inside the nested-KVM
# helper VM (ci/nested-kvm). NESTED=0 never uses the helper: without a
# usable KVM every test then skips, and on one that runs real mode only
# (kvm_pvm) the tests and cases that need more skip, each saying why.
# Tests that drive the helper VM or QEMU themselves, or need no KVM
# (HOST_TESTS), always run out here, on the host: beside the helper VM
# when it is used. After each test a line says how long it took, on which
# KVM it ran, and how many of its cases skipped.
# Exits non-zero when any test fails or times out.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
HOST_TESTS="nested_kvm_helper.sh os1k_qemu_diff.sh usage_test.sh ksft_headers_test.sh lib_unit kut_qemu_test.sh seccomp"
# Where the test programs are: MINI_KVM_SELFTESTS=build/san/selftests runs
# the sanitizer build's (make check-sanitize).
testdir=${MINI_KVM_SELFTESTS:-selftests}
timeout=$(sed -n 's/^timeout=//p' selftests/settings)
inner=
case "${1:-}" in --inner=*) inner=${1#--inner=}; shift ;; esac

failed=0
log=$(mktemp) host_tap=$(mktemp)
trap 'rm -f "$log" "$host_tap"' EXIT
# kvm_name PROBE_OUTPUT PROBE_STATUS: the KVM that kvm-probe found, without
# what it says that KVM cannot do ("kvm_pvm, kernel 6.1.0").
kvm_name() {
	case $2 in 0 | 3) echo "${1%% cannot run *}" ;; *) echo "no KVM" ;; esac
}
ran_on= # where the tests of this runner run, for each test's line

# run_one NUMBER NAME: one test, its own TAP indented as '# ' lines, then
# its time, the KVM it ran on ($ran_on) and how many of its cases skipped.
# A test that skipped whole gives its reason on the result line.
run_one() {
	local n=$1 name=$2 rc t0=${EPOCHREALTIME/./} us skipped
	echo "# selftests: mini-kvm: $name"
	timeout --foreground -k 5 "$timeout" "$testdir/$name" </dev/null 2>&1 | tee "$log" | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	us=$((${EPOCHREALTIME/./} - t0))
	skipped=$(grep -cE '^ok [0-9]+ (.* )?# SKIP' "$log")
	if [ "$skipped" = 0 ]; then skipped=; else skipped=", $skipped of its cases skipped"; fi
	printf '# mini-kvm: %s took %d.%01d s, ran on %s%s\n' "$name" $((us / 1000000)) \
		$((us % 1000000 / 100000)) "$ran_on" "$skipped"
	case $rc in
	0) echo "ok $n selftests: mini-kvm: $name" ;;
	4) echo "ok $n selftests: mini-kvm: $name # SKIP $(sed -n 's/^1\.\.0 # SKIP //p' "$log")" ;;
	124) echo "not ok $n selftests: mini-kvm: $name # TIMEOUT $timeout seconds"; failed=1 ;;
	*) echo "not ok $n selftests: mini-kvm: $name # exit=$rc"; failed=1 ;;
	esac
}

run_all() {
	local n=$1
	shift
	for t in "$@"; do
		n=$((n + 1))
		run_one "$n" "$t"
	done
}

probe=$(build/kvm-probe 2>&1)
probe_rc=$?
if [ -n "$inner" ]; then
	echo "# mini-kvm: KVM inside the helper VM: $probe"
	ran_on="$(kvm_name "$probe" $probe_rc) (in the helper VM)"
	run_all "$inner" "$@"
	exit $failed
fi

in_vm=() on_host=()
for t in "$@"; do
	case " $HOST_TESTS " in
	*" $t "*) on_host+=("$t") ;;
	*) in_vm+=("$t") ;;
	esac
done

# probe: 0 usable, 3 real mode only (e.g. kvm_pvm), 4 no KVM.
mode=skip
if [ "${NESTED:-}" != 1 ] && [ $probe_rc = 0 ]; then
	mode=native
elif [ "${NESTED:-}" != 0 ] && [ -x ci/nested-kvm ]; then
	mode=nested
elif [ $probe_rc = 3 ]; then
	mode=native
fi

echo "TAP version 13"
echo "1..$#"
case $mode in
native)
	echo "# mini-kvm: tests run on this machine's KVM (native: $probe)"
	ran_on="$(kvm_name "$probe" $probe_rc) (native)"
	export MINI_KVM_SKIP_NESTED_TESTS="native KVM in use; 'make run_tests NESTED=1' tests the helper VM"
	run_all 0 "$@"
	exit $failed
	;;
skip)
	echo "# mini-kvm: no KVM to run on: $probe${NESTED:+ (NESTED=$NESTED)}"
	ran_on="no KVM"
	export MINI_KVM_SKIP_NESTED_TESTS="NESTED=0 or no helper VM"
	run_all 0 "$@"
	exit $failed
	;;
esac

# nested: the KVM tests inside one boot of the helper VM, while the
# HOST_TESTS run out here on the other core; their TAP is held back and
# printed after the VM's, numbered after it. A boot that fails or wedges
# (status 241, DESIGN.md) is tried once more for the tests it did not
# report.
echo "# mini-kvm: tests run in the nested-KVM helper VM (ci/nested-kvm)${NESTED:+, NESTED=$NESTED}"
# Fill the helper's cache first, so the VMs started below do not all wait for it.
ci/nested-kvm --prepare </dev/null 2>&1 | sed 's/^/# /'
(
	ran_on="the host, beside the helper VM"
	run_all ${#in_vm[@]} "${on_host[@]}"
	exit $failed
) >"$host_tap" 2>&1 &
host_pid=$!
[ ${#on_host[@]} = 0 ] || echo "# mini-kvm: meanwhile on the host: ${on_host[*]}"
printed=0 status=241
for attempt in 1 2; do
	if [ "$status" != 241 ] || [ $printed -ge ${#in_vm[@]} ]; then break; fi
	[ $attempt = 2 ] && echo "# mini-kvm: the helper VM failed; one more boot for the rest"
	rest=("${in_vm[@]:$printed}")
	while IFS= read -r line; do
		case $line in
		"ok "* | "not ok "*) printed=$((printed + 1)) ;;
		"@status "*) status=${line#@status }; continue ;;
		"#"*) ;;
		*) line="# $line" ;; # the helper's own messages
		esac
		echo "$line"
	done < <(ci/nested-kvm --batch --timeout=$((timeout * ${#rest[@]})) -- \
		selftests/run_tests.sh --inner=$printed "${rest[@]}" 2>&1; echo "@status $?")
done
[ "$status" = 0 ] || failed=1
for ((i = printed; i < ${#in_vm[@]}; i++)); do
	echo "not ok $((i + 1)) selftests: mini-kvm: ${in_vm[$i]} # helper VM ended early (status $status, see ci/README.md)"
done
wait $host_pid || failed=1
cat "$host_tap"
exit $failed
