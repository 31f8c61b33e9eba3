#!/bin/bash
# SPDX-License-Identifier: MIT
# trace_test: mini-kvm --trace=FILE and the time per exit reason of
# --stats, on real-mode built-ins that run on any KVM (kvm_pvm too). The
# trace must be JSON that Python's json module reads, in the Chrome
# trace-event form (an "X" event per exit with its reason, pid, tid, ts,
# dur and the guest's and mini-kvm's times in args, a "mini-kvm" event
# nested in it; process and thread names), its exits per reason equal to
# the counts of --stats, and so must each reason's count in the --stats
# table and its histogram. That holds for one guest, for several in one
# file (a pid each), for a guest that times out, is stopped by SIGINT or
# crashes, and, where the KVM runs protected mode, for --smp. The SVG of
# tools/trace-svg must be well-formed XML with a row per vCPU and a legend.
# A trace path that cannot be written is one line and exit 126, before any
# guest runs. Nothing here measures time. Prints kselftest TAP; exit 0, 1
# or 4 (skip: no command, no python3, or no usable KVM).
# shellcheck disable=SC2317 # the t_* functions are called by name
set -u
here=$(cd "$(dirname "$0")" && pwd)
# tools/trace-svg: in the tree, beside an installed copy, or above build/san/.
SVG=${MINI_KVM_TRACE_SVG:-}
for c in "$here/../tools/trace-svg" "$here/trace-svg" "$here/../../../tools/trace-svg"; do
	[ -z "$SVG" ] && [ -f "$c" ] && SVG=$c
done
. "$here/tap.sh"
need_mini_kvm
command -v python3 >/dev/null || skip_all "no python3 to read the trace with"
need_kvm

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out err=$tmp/err trace=$tmp/trace.json

printf '\xeb\xfe' >"$tmp/loop.bin" # jmp .
# triple: lidt and lgdt of an empty table, PE on, a far jump: a triple fault.
printf '\x0f\x01\x1e\x20\x00\x0f\x01\x16\x20\x00\x0f\x20\xc0\x0c\x01\x0f\x22\xc0\xea\x20\x00\x08\x00\xf4' >"$tmp/triple.bin"
truncate -s 38 "$tmp/triple.bin"
# pexit (32-bit): HC_EXIT 0.
printf '\x31\xdb\xb0\x00\x66\xba\x00\x05\xee' >"$tmp/pexit.bin"

# mk ARGS...: mini-kvm with stdin from $input (default /dev/null); sets rc.
input=/dev/null
mk() {
	"$M" "$@" <"$input" >"$out" 2>"$err"
	rc=$?
}

# check_trace NAME...: the trace against the --stats in $err, the guests
# named in order (pid 1, 2, ...). Prints what is wrong; status 1 if anything.
check_trace() {
	python3 - "$trace" "$err" "$@" <<'EOF'
import collections, json, re, sys

path, err_path, names = sys.argv[1], sys.argv[2], sys.argv[3:]
bad = []
try:
    with open(path) as f:
        data = json.load(f)
except ValueError as e:
    print(f"not JSON: {e}")
    sys.exit(1)
events = data["traceEvents"]
procs = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
           if e["ph"] == "M" and e["name"] == "thread_name"}
for i, n in enumerate(names):
    if procs.get(i + 1) != n:
        bad.append(f"pid {i + 1} is named {procs.get(i + 1)!r}, want {n!r}")
exits = [e for e in events if e.get("cat") == "exit"]
vmm = collections.defaultdict(list)
for e in events:
    if e.get("cat") == "vmm":
        vmm[(e["pid"], e["tid"])].append(e)
for e in exits:
    for k in ("name", "ph", "pid", "tid", "ts", "dur", "args"):
        if k not in e:
            bad.append(f"an exit event lacks {k!r}: {e}")
    if e["ph"] != "X" or (e["pid"], e["tid"]) not in threads:
        bad.append(f"not an X event of a named vCPU: {e}")
    a = e["args"]
    if abs(a["guest_us"] + a["mini_kvm_us"] - e["dur"]) > 0.002:
        bad.append(f"guest_us + mini_kvm_us != dur: {e}")
    if e["name"] == "KVM_EXIT_IO" and not {"port", "dir", "size"} <= a.keys():
        bad.append(f"an IO exit without port, dir or size: {e}")
# Each exit has its "mini-kvm" event, nested at its end, on its row.
for key, evs in vmm.items():
    ends = {round(e["ts"] + e["dur"], 3) for e in exits if (e["pid"], e["tid"]) == key}
    for v in evs:
        if round(v["ts"] + v["dur"], 3) not in ends:
            bad.append(f"a mini-kvm event outside every exit: {v}")
if len(sum(vmm.values(), [])) != len(exits):
    bad.append(f"{len(exits)} exits but {len(sum(vmm.values(), []))} mini-kvm events")

# --stats: a block per guest, in command-line order.
blocks = re.split(r"^mini-kvm: .*: stats: .*$", open(err_path).read(), flags=re.M)[1:]
if len(blocks) != len(names):
    bad.append(f"{len(blocks)} stats blocks for {len(names)} guests")
for i, block in enumerate(blocks):
    m = re.search(r"^  exits:(.*)$", block, re.M)
    stats = {k: int(v) for k, v in (w.split("=") for w in m.group(1).split())} if m else {}
    traced = collections.Counter(e["name"] for e in exits if e["pid"] == i + 1)
    # A KVM_RUN cut short by a kick is no exit to --stats' counts.
    traced.pop("kick (KVM_RUN -EINTR)", None)
    if dict(traced) != stats:
        bad.append(f"{names[i]}: trace {dict(traced)}, --stats exits {stats}")
    table = {}
    for name, count, buckets in re.findall(r"^    (\S+) +count=(\d+) .*\n +(.*)$", block, re.M):
        table[name] = int(count)
        in_buckets = sum(int(b.rsplit(":", 1)[1]) for b in buckets.split())
        if in_buckets != int(count):
            bad.append(f"{names[i]}: {name}: count={count}, buckets hold {in_buckets}")
    if table != stats:
        bad.append(f"{names[i]}: --stats time table {table}, exits {stats}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# py WHY ARGS... <SCRIPT: Python on stdin; on failure, WHY and its last line.
py() {
	local why=$1 said
	shift
	said=$(python3 - "$@" 2>&1) || { fail_why+="$why: ${said##*$'\n'}; "; return 1; }
}

fail_why=
want_rc() { [ "$rc" = "$1" ] || { fail_why+="exit status $rc, want $1; "; return 1; }; }
want_trace() {
	local why
	why=$(check_trace "$@") || { fail_why+="$why; "; return 1; }
}

t_one_guest() { mk --stats --trace="$trace" counter; want_rc 0 && want_trace counter; }
t_hypercall_args() {
	mk --trace="$trace" hello
	want_rc 0 || return 1
	py "no HC_WRITE exit at port 0x500, or the last exit no hlt" "$trace" <<'EOF' || return 1
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("cat") == "exit"]
io = [e["args"] for e in ev if e["name"] == "KVM_EXIT_IO"]
ok = io and io[0].get("port") == "0x500" and io[0].get("dir") == "out" and \
    io[0].get("size") == 1 and io[0].get("hypercall") == "HC_WRITE"
sys.exit(0 if ok and ev[-1]["name"] == "KVM_EXIT_HLT" else 1)
EOF
}
t_several_guests() {
	printf 'one\ntwo\n' >"$tmp/in"
	input=$tmp/in mk --stats --trace="$trace" hctest hello counter
	want_rc 2 && want_trace hctest hello counter
}
t_timeout() { mk --stats --timeout=0.3 --trace="$trace" "$tmp/loop.bin"; want_rc 124 && want_trace loop; }
t_sigint() {
	timeout --preserve-status -s INT 0.5 "$M" --stats --trace="$trace" "$tmp/loop.bin" </dev/null >"$out" 2>"$err"
	rc=$?
	want_rc 130 && want_trace loop
}
t_crash() { mk --stats --trace="$trace" "$tmp/triple.bin"; want_rc 125 && want_trace triple; }
t_smp() {
	[ "$probe_rc" = 3 ] && { skip_why="$probe; run it in the helper VM instead: ci/nested-kvm $0"; return 1; }
	mk --stats --smp=2 --mode=protected --trace="$trace" "$tmp/pexit.bin"
	want_rc 0 || return 1
	py "not two named vCPU threads of pid 1" "$trace" <<'EOF' || return 1
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["name"] == "thread_name"}
sys.exit(0 if names == {(1, 0): "vCPU 0", (1, 1): "vCPU 1"} else 1)
EOF
}
t_svg() {
	[ -n "$SVG" ] || { skip_why="no tools/trace-svg here (set MINI_KVM_TRACE_SVG)"; return 1; }
	mk --trace="$trace" hello counter
	want_rc 0 || return 1
	for opt in "" --detail; do
		# shellcheck disable=SC2086 # no option, or one
		python3 "$SVG" $opt -o "$tmp/t.svg" "$trace" 2>"$err" || { fail_why+="trace-svg $opt failed; "; return 1; }
		py "trace-svg $opt: not the SVG wanted" "$tmp/t.svg" <<'EOF' || return 1
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
ok = root.tag == "{http://www.w3.org/2000/svg}svg" and "hello / vCPU 0" in texts and \
    "counter / vCPU 0" in texts and any(t.startswith("KVM_EXIT_IO") for t in texts)
sys.exit(0 if ok else 1)
EOF
	done
}
# bad_path DIR: the trace cannot be made there; nothing runs (hello prints).
bad_path() {
	want_rc 126 || return 1
	[ "$(wc -l <"$err")" = 1 ] || { fail_why+="stderr has $(wc -l <"$err") lines, want 1; "; return 1; }
	grep -q "^mini-kvm: --trace=$1/t.json: cannot write the trace there: " "$err" ||
		{ fail_why+="stderr: $(cat "$err"); "; return 1; }
	[ ! -s "$out" ] || { fail_why+="a guest ran: $(cat "$out"); "; return 1; }
}
t_bad_path_missing_dir() { mk --trace="$tmp/nosuch/t.json" hello; bad_path "$tmp/nosuch"; }
t_bad_path_unwritable_dir() {
	mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
	if [ "$(id -u)" = 0 ]; then
		# root writes anywhere: drop the capability that lets it
		command -v setpriv >/dev/null || { skip_why="running as root, without setpriv"; return 1; }
		setpriv --bounding-set=-dac_override "$M" --trace="$tmp/ro/t.json" hello </dev/null >"$out" 2>"$err"
		rc=$?
	else
		mk --trace="$tmp/ro/t.json" hello
	fi
	bad_path "$tmp/ro"
}
t_trace_needs_a_file() {
	mk --trace
	want_rc 2 || return 1
	grep -q "option '--trace' needs a value" "$err" || { fail_why+="stderr: $(head -1 "$err"); "; return 1; }
}

tests="one_guest hypercall_args several_guests timeout sigint crash smp svg
bad_path_missing_dir bad_path_unwritable_dir trace_needs_a_file"
# shellcheck disable=SC2086 # $tests: the case names, one word each
run_cases $tests
finish
