# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# tap.sh: the kselftest TAP that the shell tests print, written once; they
# source it (it is no test itself; make install copies it beside them).
# Sourcing it prints the version line. Then one line per check:
#   ok NAME [NOTE]               ok N NAME, and " # NOTE" when given
#   not_ok NAME [LINE...]        not ok N NAME, then each LINE (which may
#                                hold newlines) as '# ' lines
#   check STATUS NAME [LINE...]  ok NAME if STATUS is 0, else not_ok
#   skip NAME REASON             ok N NAME # SKIP REASON
#   skip_all REASON              before any check: 1..0 # SKIP REASON, exit 4
#   finish                       the plan, then exit: 1 if a check failed,
#                                4 if none passed (all skipped), else 0
#   run_cases CASE...            t_CASE for each: ok when it returns 0, skip
#                                when it set skip_why, else not_ok with
#                                fail_why, $rc and what case_details prints
#                                (default: the head of file $err); then
#                                case_done (default: nothing). A test may
#                                define both again. With TAP_CASES set (the
#                                runner's helper-VM pass), only the cases
#                                it names run.
# For the tests of the command (they set here to their own directory):
#   need_mini_kvm                M: $MINI_KVM, or the mini-kvm of the tree
#                                or beside an installed copy; else skip_all
#   need_kvm                     probe and probe_rc: kvm-probe's line and
#                                status (0 usable, 3 real mode only; the
#                                tree's, or the one above build/san/),
#                                or, installed without it, mini-kvm's own
#                                word; skip_all without a usable KVM
# And, for the tests that must know that a guest runs:
#   vcpu_running PID             returns once a thread of mini-kvm PID other
#                                than its main one (where set-up runs, an
#                                ASan build's too) has used 0.2 s of CPU
#                                time: a vCPU in a loop is running then.
#                                Nothing is timed; status 1 after 30 s.
tap_n=0 tap_passed=0 tap_failed=0
echo "TAP version 13"

ok() {
	tap_n=$((tap_n + 1)) tap_passed=$((tap_passed + 1))
	echo "ok $tap_n $1${2:+ # $2}"
}

not_ok() {
	tap_n=$((tap_n + 1)) tap_failed=1
	echo "not ok $tap_n $1"
	shift
	for tap_line in "$@"; do
		[ -z "$tap_line" ] || printf '%s\n' "$tap_line" | sed 's/^/# /'
	done
}

check() {
	tap_status=$1
	shift
	if [ "$tap_status" = 0 ]; then ok "$1"; else not_ok "$@"; fi
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n $1 # SKIP $2"
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 4
}

finish() {
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ] || exit 1
	[ "$tap_passed" != 0 ] || exit 4
	exit 0
}

# shellcheck disable=SC2154 # here: the test's
need_mini_kvm() {
	M=${MINI_KVM:-}
	for tap_c in "$here/../mini-kvm" "$here/mini-kvm"; do
		[ -z "$M" ] && [ -f "$tap_c" ] && [ -x "$tap_c" ] && M=$tap_c # installed: not the mini-kvm/ dir
	done
	{ [ -n "$M" ] && [ -x "$M" ]; } || skip_all "no mini-kvm command (build it, or set MINI_KVM)"
}

need_kvm() {
	probe_rc=0
	for tap_c in "$here/../build/kvm-probe" "$here/../kvm-probe" ""; do
		[ -z "$tap_c" ] || [ -x "$tap_c" ] && break
	done
	if [ -n "$tap_c" ]; then
		probe=$("$tap_c" 2>&1)
		probe_rc=$?
	elif ! probe=$("$M" minimal 2>&1); then
		probe_rc=4
	fi
	[ "$probe_rc" != 4 ] || skip_all "no usable KVM: $probe"
}

run_cases() {
	for tap_case in "$@"; do
		case " ${TAP_CASES:-$*} " in *" $tap_case "*) ;; *) continue ;; esac
		fail_why='' skip_why='' rc=
		if "t_$tap_case"; then
			ok "$tap_case"
		elif [ -n "$skip_why" ]; then
			skip "$tap_case" "$skip_why"
		else
			not_ok "$tap_case" "${fail_why:-failed} (exit $rc)" "$(case_details)"
		fi
		case_done
	done
}
# shellcheck disable=SC2154 # err: the test's, see above
case_details() { sed 's/^/stderr: /' "$err" 2>/dev/null | head -20; }
case_done() { :; }

vcpu_running() {
	for _ in $(seq 600); do
		for tap_task in "/proc/$1/task/"*; do
			[ "${tap_task##*/}" = "$1" ] && continue
			tap_ticks=$(awk '{ print $14 + $15 }' "$tap_task/stat" 2>/dev/null || echo 0)
			[ "$tap_ticks" -ge 20 ] && return 0
		done
		sleep 0.05
	done
	return 1
}
