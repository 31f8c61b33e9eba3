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
# kvm_pvm cannot emulate). On a KVM that runs real mode only (kvm_pvm),
# every test runs here first, and the nested-KVM helper VM (ci/nested-kvm)
# then runs what skipped here for want of more. Without a usable KVM, or
# with NESTED=1, every test runs in the helper VM. NESTED=0 never uses the
# helper: without a usable KVM every test then skips, and on one that runs
# real mode only the tests and cases that need more skip, each saying why.
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
log=$(mktemp) host_log=$(mktemp) host_tap=$(mktemp)
trap 'rm -f "$log" "$host_log" "$host_tap"' EXIT
# kvm_name PROBE_OUTPUT PROBE_STATUS: the KVM that kvm-probe found, without
# what it says that KVM cannot do ("kvm_pvm, kernel 6.1.0").
kvm_name() {
	case $2 in 0 | 3) echo "${1%% cannot run *}" ;; *) echo "no KVM" ;; esac
}
ran_on= # where the tests of this runner run, for each test's line

# run_one NAME[=CASE,...]: one test, its own TAP indented as '# ' lines
# (kept in $log), then its time, the KVM it ran on ($ran_on) and how many
# of its cases skipped; sets rc. With CASEs, only those run (TAP_CASES).
run_one() {
	local name=${1%%=*} cases='' t0=${EPOCHREALTIME/./} us skipped
	case $1 in *=*) cases=${1#*=} ;; esac
	echo "# selftests: mini-kvm: $name${cases:+ (only ${cases//,/, })}"
	TAP_CASES=${cases//,/ } timeout --foreground -k 5 "$timeout" "$testdir/$name" </dev/null 2>&1 |
		tee "$log" | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	us=$((${EPOCHREALTIME/./} - t0))
	skipped=$(grep -cE '^ok [0-9]+ (.* )?# SKIP' "$log")
	if [ "$skipped" = 0 ]; then skipped=; else skipped=", $skipped of its cases skipped"; fi
	printf '# mini-kvm: %s took %d.%01d s, ran on %s%s\n' "$name" $((us / 1000000)) \
		$((us % 1000000 / 100000)) "$ran_on" "$skipped"
}

# result NUMBER NAME: the result line of the test that run_one ran last.
# A test that skipped whole gives its reason on the result line.
result() {
	case $rc in
	0) echo "ok $1 selftests: mini-kvm: $2" ;;
	4) echo "ok $1 selftests: mini-kvm: $2 # SKIP $(sed -n 's/^1\.\.0 # SKIP //p' "$log")" ;;
	124) echo "not ok $1 selftests: mini-kvm: $2 # TIMEOUT $timeout seconds"; failed=1 ;;
	*) echo "not ok $1 selftests: mini-kvm: $2 # exit=$rc"; failed=1 ;;
	esac
}

run_all() {
	local n=$1
	shift
	for t in "$@"; do
		n=$((n + 1))
		run_one "$t"
		result "$n" "${t%%=*}"
	done
}

# for_helper_vm NAME: after run_one, what of it needs the helper VM: NAME
# when it skipped whole, or a compiled test skipped a case, for that
# reason; NAME=CASE,... for a script's cases that did. Else nothing.
for_helper_vm() {
	local cases
	if [ "$rc" = 4 ] && grep -q '^1\.\.0 # SKIP .*helper VM' "$log"; then
		echo "$1"
	elif [ "$rc" = 0 ] && grep -qE '^ok [0-9]+ .*# SKIP .*helper VM' "$log"; then
		cases=$(sed -nE 's/^ok [0-9]+ ([^ #]+) # SKIP .*helper VM.*/\1/p' "$log" | paste -sd, -)
		case $1 in *.sh) echo "$1${cases:+=$cases}" ;; *) echo "$1" ;; esac
	fi
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
elif [ -z "${NESTED:-}" ] && [ $probe_rc = 3 ] && [ -x ci/nested-kvm ]; then
	mode='split'
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

# nested and split: the HOST_TESTS run out here on the other core while
# the KVM tests run, their TAP held back and printed last, numbered after
# the others. split: on a KVM that runs real mode only, every KVM test runs
# here first, and the helper VM then runs only what skipped here for want
# of more (whole, or a script's cases). nested: every KVM test in the VM.
# The tests for the helper VM run in one boot; a boot that fails or
# wedges (status 241, DESIGN.md) is tried once more for what it did not report.
# Fill the helper's cache first, so that the VMs started below, the host
# tests' among them, do not all fetch it at once.
ci/nested-kvm --prepare </dev/null 2>&1 | sed 's/^/# /'
(
	ran_on="the host, beside the helper VM" log=$host_log
	run_all ${#in_vm[@]} "${on_host[@]}"
	exit $failed
) >"$host_tap" 2>&1 &
host_pid=$!
[ ${#on_host[@]} = 0 ] || echo "# mini-kvm: meanwhile on the host: ${on_host[*]}"
done_here=0
if [ $mode = split ]; then
	echo "# mini-kvm: tests run on this machine's KVM ($probe); what needs more, in the nested-KVM helper VM"
	ran_on="$(kvm_name "$probe" $probe_rc) (native)"
	vm_part=()
	for t in "${in_vm[@]}"; do
		run_one "$t"
		need=$(for_helper_vm "$t")
		if [ -n "$need" ]; then
			vm_part+=("$need")
			case $need in
			*=*) echo "# mini-kvm: $t: its cases ${need#*=} on to the helper VM" ;;
			*) echo "# mini-kvm: $t: on to the helper VM" ;;
			esac
		else
			done_here=$((done_here + 1))
			result $done_here "$t"
		fi
	done
	in_vm=("${vm_part[@]}")
else
	echo "# mini-kvm: tests run in the nested-KVM helper VM (ci/nested-kvm)${NESTED:+, NESTED=$NESTED}"
fi
printed=0 status=241
if [ ${#in_vm[@]} = 0 ]; then status=0; fi
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
		selftests/run_tests.sh --inner=$((done_here + printed)) "${rest[@]}" 2>&1; echo "@status $?")
done
[ "$status" = 0 ] || failed=1
for ((i = printed; i < ${#in_vm[@]}; i++)); do
	echo "not ok $((done_here + i + 1)) selftests: mini-kvm: ${in_vm[$i]%%=*} # helper VM ended early (status $status, see ci/README.md)"
done
wait $host_pid || failed=1
cat "$host_tap"
exit $failed
