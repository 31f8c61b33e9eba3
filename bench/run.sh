#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/run.sh: `make bench`. Chooses where the KVM measurements run (the
# same choice as `make run_tests`: natively when build/kvm-probe exits 0,
# else inside the nested-KVM helper VM), runs bench/inner.sh
# there, then times `make run_tests` and the helper VM's boot from out
# here, and writes everything as Markdown to bench/results/DATE.md (and
# stdout). See docs/bench.md.
#
# Environment: NESTED=1 forces the helper VM, NESTED=0 forbids it;
# BENCH_WAIT=0 does not wait for other QEMU processes (a quick trial only);
# BENCH_QUICK=1 skips the test-suite timing; BENCH_SUITE_ROUNDS (default 2:
# one round of `make run_tests` takes minutes in the helper VM);
# BENCH_OUT (the results file); the knobs of bench/inner.sh pass through.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
B=build/bench
SR=${BENCH_SUITE_ROUNDS:-2}
W=$(mktemp -d "${TMPDIR:-/tmp}/mini-kvm-bench-run.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
say() { printf 'bench: %s\n' "$*" >&2; }
t_start=$(date +%s)

probe=$(build/kvm-probe 2>&1)
probe_rc=$?
probe=${probe%%$'\n'*}
# split: a KVM that runs real mode only runs the parts that need no more
# (REAL_MODE_PARTS) here, and the helper VM the rest.
REAL_MODE_PARTS="startup hcall irqchip multi"
if [ "${NESTED:-}" != 1 ] && [ "$probe_rc" = 0 ]; then
	mode=native
elif [ -z "${NESTED:-}" ] && [ "$probe_rc" = 3 ] && [ -x ci/nested-kvm ]; then
	mode='split'
elif [ "${NESTED:-}" != 0 ] && [ -x ci/nested-kvm ]; then
	mode=nested
elif [ "$probe_rc" = 3 ]; then
	mode=native # NESTED=0 on a real-mode-only KVM: what runs, runs here
else
	say "no usable KVM here ($probe) and no helper VM allowed (NESTED=${NESTED:-})"
	exit 1
fi

# Other people's VMs would share our CPUs: wait for them (not timed).
wait_quiet() {
	local said=0
	[ "${BENCH_WAIT:-1}" = 0 ] && return
	while pgrep -f '^qemu-system' >/dev/null 2>&1; do
		[ $said = 1 ] || say "waiting for the running QEMU processes to end: $(pgrep -d, -f '^qemu-system')"
		said=1
		sleep 3
	done
}

# Notes, every 2 s, any QEMU that is not ours (not our descendant): its
# pid and when, so the report can say whether our figures were disturbed.
qemu_owners() { # "O PID" for our QEMU processes, "F PID" for the others
	local p q
	for p in $(pgrep -f '^qemu-system'); do
		q=$p
		while [ "$q" -gt 1 ] && [ "$q" != $$ ]; do
			q=$(ps -o ppid= -p "$q" 2>/dev/null | tr -d ' ')
			[ -n "$q" ] || q=1
		done
		if [ "$q" = $$ ]; then echo "O $p"; else echo "F $p"; fi
	done
}
watch_others() { # only while one of ours runs: waiting for theirs is not measuring
	while sleep 2; do
		o=$(qemu_owners)
		grep -q "^O" <<<"$o" || continue
		f=$(sed -n 's/^F //p' <<<"$o")
		[ -z "$f" ] || echo "$(date -u +%T) $1: ${f//$'\n'/ }"
	done >>"$W/others" 2>/dev/null
}
others_note() { # what the watcher saw during a part of the run
	if [ -s "$W/others" ] && grep -q " $1:" "$W/others"; then
		echo "**Other QEMU processes ran during $1 (pids $(grep " $1:" "$W/others" | cut -d: -f4- | tr ' ' '\n' | sort -un | paste -sd ' ' - | sed 's/^ *//'), seen $(grep -c " $1:" "$W/others") times at 2-s samples): those figures shared the CPUs and are disturbed.**"
	else
		echo "No other QEMU process was seen during $1 (sampled every 2 s)."
	fi
}

# ---------------------------------------------------------------- KVM measurements
wait_quiet
watch_others measurements &
watcher=$!
# in_helper_vm PART: one part in the helper VM, its output added to
# inner.out. One helper VM per part: a VM that wedges (241) costs one part,
# which is tried again, at most three times. Both CPUs for the parts where
# threads run at once (several guests; QEMU), one for the two
# single-threaded loops: less noise, and -smp 2 wedges some runs.
in_helper_vm() {
	local part=$1 cpus=2 try prc
	case $part in hcall | irqchip) cpus=1 ;; esac
	for try in 1 2 3; do
		wait_quiet
		ci/nested-kvm --cpus=$cpus --batch --timeout=900 -- bench/inner.sh "$part" >"$W/part.out" 2>"$W/part.err"
		prc=$?
		grep '^bench:' "$W/part.err" >&2
		grep -v '^bench:' "$W/part.err" | grep '.' >>"$W/nested.err"
		[ $prc = 241 ] || break
		say "$part: the helper VM wedged (status 241): $(grep '^nested-kvm:' "$W/part.err" | tail -n 1)"
		echo "$part: try $try: $(grep '^nested-kvm:' "$W/part.err" | tail -n 1)" >>"$W/wedges"
	done
	if [ "$prc" = 0 ] && grep -q '^@failures' "$W/part.out"; then
		cat "$W/part.out" >>"$W/inner.out"
		echo "| $part | the nested-KVM helper VM (\`ci/nested-kvm --cpus=$cpus\`): $(sed -n 's/^@meta kvm_probe //p' "$W/part.out" | head -n 1) |" >>"$W/where"
		rc=0
	else
		printf '\n**Part "%s" was not measured: the helper VM ended with status %s (%s).**\n' \
			"$part" "$prc" "$(grep '^nested-kvm:' "$W/part.err" | tail -n 1)" >>"$W/inner.out"
	fi
}

rc=1
case $mode in
native)
	say "running natively ($probe)"
	bench/inner.sh >"$W/inner.out"
	rc=$?
	echo "| every part | natively: $probe |" >>"$W/where"
	;;
split)
	say "running $REAL_MODE_PARTS natively ($probe), the 1K OS in the helper VM"
	# shellcheck disable=SC2086 # the part names, one word each
	bench/inner.sh $REAL_MODE_PARTS >"$W/inner.out"
	rc=$?
	for part in $REAL_MODE_PARTS; do echo "| $part | natively: $probe |"; done >>"$W/where"
	[ $rc != 0 ] || in_helper_vm os1k
	;;
nested)
	say "running inside the helper VM (ci/nested-kvm): $probe"
	for part in startup hcall irqchip multi os1k; do
		in_helper_vm $part
	done
	;;
esac
kill $watcher 2>/dev/null
wait $watcher 2>/dev/null
if [ "$rc" != 0 ] || ! grep -q '^@failures' "$W/inner.out"; then
	say "the measurements did not complete (status $rc)"
	cat "$W/inner.out"
	exit 1
fi

# ---------------------------------------------------------------- 7: the test suite, from out here
suite_md='' suite_goals=''
if [ "${BENCH_QUICK:-}" != 1 ]; then
	cmds=()
	[ -x ci/nested-kvm ] && cmds+=(-- helper ci/nested-kvm --verbose --batch true)
	cmds+=(-- suite bench/stamp.sh "${MAKE:-make}" -s run_tests)
	say "timing the helper VM's boot and make run_tests, $SR rounds interleaved"
	watch_others "the test-suite timing" &
	watcher=$!
	$B/launch -w -n "$SR" -t 900 -o "$W/suite.stdout" -e "$W/suite.err" "${cmds[@]}" >"$W/suite.out" 2>"$W/suite.launch"
	suite_rc=$?
	kill $watcher 2>/dev/null
	wait $watcher 2>/dev/null
	suite_md=$(
		awk -v rounds="$SR" -v rc="$suite_rc" -v mode="$mode" '
		function sort(s, k,   i, j, t) { for (i = 2; i <= k; i++) for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t } }
		function med(s, k) { return k % 2 ? s[(k + 1) / 2] : (s[k / 2] + s[k / 2 + 1]) / 2 }
		function cell(s, k) { return k ? sprintf("%.2f (%.2f–%.2f)", med(s, k), s[1], s[k]) : "—" }
		FILENAME ~ /suite.err$/ && $1 == "@run" { l = $2; r = $3; next }
		FILENAME ~ /suite.err$/ && /COMMAND started/ { for (i = 1; i <= NF; i++) if ($i == "started") boot[r] = $(i + 1); next }
		FILENAME ~ /suite.out$/ && $1 == "run" { w[$2, $3] = $4 / 1e6; st[$2, $3] = $6 }
		END {
			for (r = 1; r <= rounds; r++) {
				if ((r in boot)) { b[++nb] = boot[r]; hw[nb] = w["helper", r] }
				if (("suite", r) in w) { s[++ns] = w["suite", r]; if (r in boot) d[++nd] = w["suite", r] - boot[r] }
			}
			sort(b, nb); sort(hw, nb); sort(s, ns); sort(d, nd)
			print "| what | seconds, median (min–max) |"
			print "|---|---|"
			if (nb) {
				print "| helper VM: call to COMMAND start (`ci/nested-kvm --verbose true`) | " cell(b, nb) " |"
				print "| helper VM: whole `ci/nested-kvm true` (boot, run, power off) | " cell(hw, nb) " |"
			}
			print "| `make run_tests`, whole (" mode ") | " cell(s, ns) " |"
			if (nd) print "| `make run_tests` beyond the helper boot of the same round | " cell(d, nd) " |"
			if (rc) print "\n**Some runs failed (launch status " rc "): see below.**"
			printf "@goalvals %s %s\n", nb ? med(b, nb) : "-", ns ? med(s, ns) : "-"
		}' "$W/suite.err" "$W/suite.out"
	)
	if [ $suite_rc != 0 ]; then
		suite_md="$suite_md
$(grep -v 'waiting for other QEMU' "$W/suite.launch" | sed 's/^/    /')"
	fi
	# Where the suite's time goes: each test's start and end lines, stamped.
	tests_md=$(awk '
	function sort(s, k,   i, j, t) { for (i = 2; i <= k; i++) for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t } }
	function med(s, k) { return k % 2 ? s[(k + 1) / 2] : (s[k / 2] + s[k / 2 + 1]) / 2 }
	$2 == "@start" { r++; got_first = 0; next }
	# The runner times each test itself: the host tests, run beside the
	# VM, print their lines only at the end.
	$2 == "#" && $3 == "mini-kvm:" && $4 == "meanwhile" { for (i = 7; i <= NF; i++) on_host[$i] = 1; next }
	$2 == "#" && $3 == "mini-kvm:" && $5 == "took" { took[$4] = $6; next }
	$2 == "#" && $3 == "selftests:" {
		if (!got_first++) { pre[r] = $1 }
		start = $1; next
	}
	$2 == "ok" && $4 == "selftests:" { name = $6; res = ($7 == "#" ? "ok # " $8 : "ok") }
	$2 == "not" && $3 == "ok" && $5 == "selftests:" { name = $7; res = "not ok" }
	name != "" {
		if (!(name in idx)) { idx[name] = ++nt; names[nt] = name }
		d[name, ++n[name]] = (name in took) ? took[name] : $1 - start; delete took[name]; result[name] = result[name] (result[name] == "" ? "" : " / ") res; end[r] = $1; name = ""
	}
	END {
		if (!nt) exit
		print "| part of `make run_tests` | seconds, median (min–max) | result, round by round |"
		print "|---|---|---|"
		k = 0; for (i = 1; i <= r; i++) if (i in pre) p[++k] = pre[i]
		sort(p, k); if (k) printf "| make, probe, helper VM boot: until the first test starts | %.1f (%.1f–%.1f) | |\n", med(p, k), p[1], p[k]
		for (t = 1; t <= nt; t++) {
			nm = names[t]; m = n[nm]; for (i = 1; i <= m; i++) v[i] = d[nm, i]; sort(v, m)
			printf "| %s%s | %.1f (%.1f–%.1f) | %s |\n", nm, (nm in on_host) ? " (on the host, beside the VM)" : "", med(v, m), v[1], v[m], result[nm]
		}
	}' "$W/suite.stdout")
	suite_md="$suite_md

$tests_md"
	read -r boot_med suite_med <<<"$(sed -n 's/^@goalvals //p' <<<"$suite_md")"
	suite_md=$(grep -v '^@goalvals' <<<"$suite_md")
	chk() { awk -v v="$1" -v l="$2" 'BEGIN { print v <= l ? "met" : "missed" }'; }
	if [ "${suite_med:--}" != - ]; then
		suite_goals="| \`make run_tests\` ≤ 45 s, warm | ≤ 45 s | $(printf '%.1f' "$suite_med") s | $(chk "$suite_med" 45) | median over $SR rounds, the whole command ($mode), its helper VM boot included |"
	fi
	if [ "${boot_med:--}" != - ]; then
		suite_goals="$suite_goals
| helper VM: COMMAND starts ≤ 8 s after the call (warm cache) | ≤ 8 s | $(printf '%.2f' "$boot_med") s | $(chk "$boot_med" 8) | \`ci/nested-kvm --verbose true\`, $SR rounds |"
	fi
fi

# ---------------------------------------------------------------- the report
metaval() { sed -n "s/^@meta $1 //p" "$W/inner.out" | head -n 1; }
date_s=$(date -u '+%Y-%m-%d %H:%M UTC')
out=${BENCH_OUT:-bench/results/$(date -u +%F).md}
mkdir -p "$(dirname "$out")"
{
	echo "# mini-kvm benchmarks, $date_s"
	echo
	echo "Produced by \`make bench\` (bench/run.sh); every figure below was measured in this run. See docs/bench.md for what each one means."
	echo
	echo "- Date: $date_s"
	echo "- Where the guests ran, part by part:"
	echo
	echo "| part | where |"
	echo "|---|---|"
	cat "$W/where"
	echo
	echo "- Host: kernel $(uname -r), CPU $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs"
	echo "- KVM: module $(metaval kvm_module), kernel $(metaval kvm_kernel), CPU $(metaval kvm_cpu)"
	echo "- KVM probe (where the guests ran): $(metaval kvm_probe)"
	echo "- QEMU: $(metaval qemu)"
	echo "- Rounds: $(metaval rounds); test suite $SR"
	echo "- Commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- lib tools include bench ':!bench/results' 2>/dev/null || echo ' (with local changes)')"
	[ $mode != native ] && echo "
Absolute times in the helper VM are those of an emulated machine (TCG runs
the L1 kernel and, through emulated nested paging, the guests; a userspace
exit costs tens of µs): compare the ratios, which were measured side by side."
	echo
	echo "## Goals"
	echo
	echo "| goal | target | measured | | how |"
	echo "|---|---|---|---|---|"
	sed -n 's/^@goal //p' "$W/inner.out" | awk -F'|' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }'
	[ -n "$suite_goals" ] && echo "$suite_goals"
	echo
	others_note measurements
	if [ -s "$W/wedges" ]; then
		echo
		echo "The helper VM wedged and a part was measured again (ci/nested-kvm status 241):"
		sed 's/^/- /' "$W/wedges"
	fi
	grep -v '^@' "$W/inner.out"
	if [ -n "$suite_md" ]; then
		echo
		echo "## 7. The test suite and the helper VM, timed from out here"
		echo
		echo "\`make run_tests\` ($mode) and \`ci/nested-kvm --verbose --batch true\`, $SR rounds"
		echo "interleaved, each waiting until no other QEMU runs. The suite's figure includes its own helper VM boot;"
		echo "\"beyond the boot\" subtracts the boot overhead measured in the same round."
		echo
		echo "$suite_md"
		echo
		others_note "the test-suite timing"
	fi
	echo
	echo "\`make bench\` took $(($(date +%s) - t_start)) s."
} >"$W/report.md"
cp "$W/report.md" "$out"
cat "$out"
say "written to $out"
