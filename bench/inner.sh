#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/inner.sh: the KVM measurements of `make bench`, run where the KVM
# is (natively, or inside the helper VM: bench/run.sh decides). Prints the
# results as Markdown sections on stdout, "@goal" and "@meta" lines for
# bench/run.sh, and progress on stderr. Every figure comes from this run.
#
#   bench/inner.sh [PART...]   the parts named (default: all of them):
#                              startup hcall irqchip multi os1k
#
# Environment: BENCH_ROUNDS (rounds for the short runs, default 21),
# BENCH_SLOW_ROUNDS (multi-vCPU and the 1K OS, default 5), BENCH_HC_MS and
# BENCH_SPIN_MS (how long the hypercall loop and the spin work should take,
# default 300 and 1000 ms: the counts are calibrated to that here).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
B=build/bench
L=$B/launch
R=${BENCH_ROUNDS:-21}
RS=${BENCH_SLOW_ROUNDS:-5}
HC_MS=${BENCH_HC_MS:-300}
SPIN_MS=${BENCH_SPIN_MS:-1000}
QEMU=${QEMU:-qemu-system-x86_64}
W=$(mktemp -d "${TMPDIR:-/tmp}/mini-kvm-bench.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
cores=$(nproc)
failures=0
# Parts: startup (1, 2, 6a, 1b), hcall (3), irqchip (4), multi (5), os1k (6b).
PARTS="$*"
want() { [ -z "$PARTS" ] || [[ " $PARTS " == *" $1 "* ]]; }

say() { printf 'bench: %s\n' "$*" >&2; }
goal() { echo "@goal $*"; } # NAME|TARGET|MEASURED|met/missed|NOTE
meta() { echo "@meta $*"; }

# bench NAME LAUNCH-ARGS...: runs launch, its report in $W/NAME.out.
bench() {
	local name=$1
	shift
	say "$name: $*"
	if ! $L "$@" >"$W/$name.out" 2>"$W/$name.launch"; then
		failures=$((failures + 1))
		say "$name: some runs failed:"
		sed 's/^/  /' "$W/$name.launch" >&2
		echo
		echo "**Some runs of \"$name\" failed; their figures below are not to be trusted:**"
		sed 's/^/    /' "$W/$name.launch"
	fi
	load "$name" "$W/$name.out"
}

# Every figure is a median (min–max) that launch computes: of its runs'
# wall time and peak RSS, and (launch -s) of numbers taken from their
# stderr. load puts launch's lines in F: F[SET LABEL] = "N MED MIN MAX"
# (a run's: wall µs, then RSS KiB: N MED MIN MAX MED MIN MAX) and
# F[SET LABEL/BASE] = the ratio's "MED MIN MAX" (a run's: wall, then RSS).
declare -A F
load() { # SET FILE
	local kind l b rest
	while read -r kind l b rest; do
		case $kind in
		stat) F[$1 $l]="$b $rest" ;;
		ratio) F[$1 $l/$b]=$rest ;;
		esac
	done <"$2"
}
# summarise SET < LINES: launch -s on "LABEL ROUND VALUE" lines, into F.
summarise() {
	$L -s >"$W/$1.sum" && load "$1" "$W/$1.sum"
}
fig() { # SET KEY I: the I-th number of F[SET KEY]
	local -a v
	read -r -a v <<<"${F[$1 $2]:-}"
	echo "${v[$3 - 1]:-}"
}
# cell FORMAT SET KEY FIRST [SCALE [UNIT]]: "median[UNIT] (min–max)" from
# the three numbers of F[SET KEY] from the FIRST on, each times 10^SCALE,
# or — when there are none.
cell() {
	local -a v
	read -r -a v <<<"${F[$2 $3]:-}"
	[ -n "${v[$4 + 1]:-}" ] || { printf '—'; return; }
	# shellcheck disable=SC2059 # the format is FORMAT's
	printf "$1${6:-} ($1–$1)" "${v[$4 - 1]}e${5:-0}" "${v[$4]}e${5:-0}" "${v[$4 + 1]}e${5:-0}"
}
wall_cell() { cell %.1f "$1" "$2" 2 -3; }                            # ms
rss_cell() { cell %.0f "$1" "$2" 5; }                                # KiB
ratio_cell() { # SET LABEL BASE wall|rss
	local first=1
	[ "$4" = rss ] && first=4
	cell %.2f "$1" "$2/$3" $first 0 ×
}
ph_cell() { cell %.2f "$1" "$2.$3" 2 -3; } # SET LABEL PHASE: ms
# check VALUE OP LIMIT: "met" or "missed", to a thousandth
check() {
	local v l
	printf -v v '%.0f' "${1:-0}e3"
	printf -v l '%.0f' "${3}e3"
	if { [ "$2" = '<=' ] && [ "$v" -le "$l" ]; } || { [ "$2" = '>=' ] && [ "$v" -ge "$l" ]; }; then
		echo met
	else
		echo missed
	fi
}
ms() { printf '%.1f' "${1:-0}e-3"; } # µs -> ms
milli() { printf '%.0f' "${1:-0}e3"; } # a ratio in thousandths, for bash's integers

# phases FILE: "LABEL.NAME ROUND US" for the "phase NAME US" lines of
# each "@run LABEL ROUND" block.
phases() {
	local a b c l='' r=0
	while read -r a b c _; do
		case $a in
		@run) l=$b r=$c ;;
		phase) echo "$l.$b $r $c" ;;
		esac
	done <"$1"
}
# stats_us FILE: for each guest in mini-kvm --stats output, "LABEL ROUND
# A B" (LABEL ROUND from the "@run" line before, or "- 0"): µs from main to
# the first KVM_RUN (A), and from there to the guest's end (B).
stats_us() {
	local -a w
	local l=- r=0 a b
	while read -r -a w; do
		if [ "${w[0]:-}" = @run ]; then
			l=${w[1]} r=${w[2]}
		elif [ "${w[*]:0:4}" = "first guest instruction at" ]; then
			a=${w[4]/./} b=${w[8]/./} # ms with 3 decimals: µs
			echo "$l $r $((10#$a)) $((10#$b - 10#$a))"
		fi
	done <"$1"
}
# floor_us FILE: "LABEL ROUND US" per "@run" block of floor -p output (or
# "- 0 US" for one run alone), the run loop's time: first_exit + more_exits.
floor_us() {
	local a b c l=- r=0 t=''
	while read -r a b c _; do
		case $a in
		@run)
			[ -z "$t" ] || echo "$l $r $t"
			l=$b r=$c t=''
			;;
		phase) [ "$b" != first_exit ] && [ "$b" != more_exits ] || t=$((${t:-0} + c)) ;;
		esac
	done <"$1"
	[ -z "$t" ] || echo "$l $r $t"
}
# calibrate N US TARGET_MS MIN MAX: the count that takes TARGET_MS when N took US.
calibrate() {
	local x=$1
	[ "${2:-0}" -gt 0 ] && x=$(($1 * $3 * 1000 / $2))
	[ "$x" -ge "$4" ] || x=$4
	[ "$x" -le "$5" ] || x=$5
	echo "$x"
}

# patch_count IMAGE N: the 32-bit count at offset 2 of a bench guest.
patch_count() {
	local n=$2 le
	printf -v le '\\%03o\\%03o\\%03o\\%03o' $((n & 255)) $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24 & 255))
	# shellcheck disable=SC2059 # the format is the four bytes' escapes
	printf "$le" | dd of="$1" bs=1 seek=2 conv=notrunc status=none
}

# ---------------------------------------------------------------- where we are
kmod=$(for m in kvm_intel kvm_amd kvm_pvm; do [ -d /sys/module/$m ] && echo $m; done | paste -sd " " -)
meta "kvm_kernel $(uname -r)"
cpu=$(grep -m 1 '^model name' /proc/cpuinfo)
meta "kvm_cpu ${cpu#*: }, $cores CPUs"
meta "kvm_module ${kmod:-unknown}"
meta "kvm_probe $(build/kvm-probe 2>&1 | head -n 1)"
meta "qemu $($QEMU --version 2>/dev/null | head -n 1)"
meta "rounds $R short, $RS long"

qemu_ok=1
command -v "$QEMU" >/dev/null 2>&1 || qemu_ok=0

# ---------------------------------------------------------------- 1, 2: start-up, RSS, QEMU microvm
if want startup; then
QEMU_MICROVM=("$QEMU" -M microvm -accel kvm -m 16M -nodefaults -no-user-config -display none
	-bios "$B/guests/qemu-exit.bin" -device "isa-debug-exit,iobase=0xf4,iosize=4")
startup_cmds=(-- empty "$B/empty" -- floor "$B/floor" -- floor-static "$B/floor-static"
	-- mini-kvm ./mini-kvm minimal -- mini-kvm-no-seccomp ./mini-kvm --no-seccomp minimal
	-- mini-kvm-dynamic "$B/mini-kvm-dynamic" minimal
	-- floor-x "$B/floor" -x -- floor-static-x "$B/floor-static" -x
	-- mini-kvm-x ./mini-kvm --version -- mini-kvm-dynamic-x "$B/mini-kvm-dynamic" --version)
[ $qemu_ok = 1 ] && startup_cmds+=(-- qemu-microvm/1 "${QEMU_MICROVM[@]}" -- qemu-x "$QEMU" -version)
bench startup -n "$R" -t 120 -o /dev/null "${startup_cmds[@]}"

cat <<EOF

## 1, 2, 6a. Start-up and peak RSS: one trivial guest, exec to exit

Each program is run $R times, interleaved (one round runs each once, in
this order), by \`build/bench/launch\`: wall time from fork to reaped,
peak RSS (\`ru_maxrss\`). Median (min–max). Ratios are taken round by
round (same round, same conditions), then summarised.
The *exec only* rows start the same programs but end them in \`main\`
before \`/dev/kvm\` is opened: the part of start-up that is exec, the
dynamic loader and process exit, not KVM. The guest: \`hlt\` in real mode (mini-kvm \`minimal\`, the floor); for
QEMU, which does not stop at \`hlt\`, \`out\` to \`isa-debug-exit\` from
the reset vector of a 64 KiB \`-bios\` image (\`-M microvm -accel kvm\`).

| program | wall ms | × floor (same linking) | peak RSS KiB | RSS × floor |
|---|---|---|---|---|
| static empty program (exec + launcher floor) | $(wall_cell startup empty) | — | $(rss_cell startup empty) | — |
| floor (bench/floor.c, dynamic) | $(wall_cell startup floor) | 1 | $(rss_cell startup floor) | 1 |
| floor-static | $(wall_cell startup floor-static) | 1 | $(rss_cell startup floor-static) | 1 |
| ./mini-kvm minimal (static, as \`make\` builds it) | $(wall_cell startup mini-kvm) | $(ratio_cell startup mini-kvm floor-static wall) | $(rss_cell startup mini-kvm) | $(ratio_cell startup mini-kvm floor-static rss) |
| ./mini-kvm --no-seccomp minimal (no filter to build and install) | $(wall_cell startup mini-kvm-no-seccomp) | $(ratio_cell startup mini-kvm-no-seccomp floor-static wall) | $(rss_cell startup mini-kvm-no-seccomp) | $(ratio_cell startup mini-kvm-no-seccomp floor-static rss) |
| mini-kvm-dynamic minimal | $(wall_cell startup mini-kvm-dynamic) | $(ratio_cell startup mini-kvm-dynamic floor wall) | $(rss_cell startup mini-kvm-dynamic) | $(ratio_cell startup mini-kvm-dynamic floor rss) |
| *exec only:* \`floor -x\` (exits in main) | $(wall_cell startup floor-x) | — | $(rss_cell startup floor-x) | — |
| *exec only:* \`floor-static -x\` | $(wall_cell startup floor-static-x) | — | $(rss_cell startup floor-static-x) | — |
| *exec only:* \`mini-kvm --version\` | $(wall_cell startup mini-kvm-x) | $(ratio_cell startup mini-kvm-x floor-static-x wall) | $(rss_cell startup mini-kvm-x) | $(ratio_cell startup mini-kvm-x floor-static-x rss) |
| *exec only:* \`mini-kvm-dynamic --version\` | $(wall_cell startup mini-kvm-dynamic-x) | $(ratio_cell startup mini-kvm-dynamic-x floor-x wall) | $(rss_cell startup mini-kvm-dynamic-x) | $(ratio_cell startup mini-kvm-dynamic-x floor-x rss) |
EOF
if [ $qemu_ok = 1 ]; then
	cat <<EOF
| QEMU microvm -accel kvm | $(wall_cell startup qemu-microvm) | $(ratio_cell startup qemu-microvm floor wall) | $(rss_cell startup qemu-microvm) | $(ratio_cell startup qemu-microvm floor rss) |
| *exec only:* \`qemu-system-x86_64 -version\` | $(wall_cell startup qemu-x) | — | $(rss_cell startup qemu-x) | — |

The seccomp filter, round by round: ./mini-kvm over \`--no-seccomp\`, wall
$(ratio_cell startup mini-kvm mini-kvm-no-seccomp wall), peak RSS
$(ratio_cell startup mini-kvm mini-kvm-no-seccomp rss).

QEMU against ./mini-kvm, round by round: wall $(ratio_cell startup qemu-microvm mini-kvm wall),
peak RSS $(ratio_cell startup qemu-microvm mini-kvm rss);
against mini-kvm-dynamic: wall $(ratio_cell startup qemu-microvm mini-kvm-dynamic wall),
peak RSS $(ratio_cell startup qemu-microvm mini-kvm-dynamic rss).
EOF
fi

r=$(fig startup mini-kvm/floor-static 1)
goal "start-up ≤ 1.05× floor|≤ 1.05|$(printf '%.2f' "$r")×|$(check "$r" '<=' 1.05)|./mini-kvm minimal / floor-static (both static), wall, per-round median"
r=$(fig startup mini-kvm-dynamic/floor 1)
goal "start-up ≤ 1.05× floor (dynamic build)|≤ 1.05|$(printf '%.2f' "$r")×|$(check "$r" '<=' 1.05)|mini-kvm-dynamic minimal / floor (both dynamic)"
m=$(fig startup mini-kvm 5) f=$(fig startup floor-static 5)
goal "peak RSS ≤ floor + 128 KiB, real-mode guest|≤ $((${f%.*} + 128)) KiB|$m KiB (floor + $((${m%.*} - ${f%.*})))|$(check "$m" '<=' $((${f%.*} + 128)))|./mini-kvm minimal / floor-static (both static), peak RSS median; launcher alone $(fig startup empty 5) KiB"
goal "peak RSS ≤ 1 MiB, real-mode guest|≤ 1024 KiB|$m KiB|$(check "$m" '<=' 1024)|./mini-kvm minimal (static); launcher floor $(fig startup empty 5) KiB"
m=$(fig startup mini-kvm-dynamic 5)
goal "peak RSS ≤ 1 MiB, real-mode guest (dynamic build)|≤ 1024 KiB|$m KiB|$(check "$m" '<=' 1024)|mini-kvm-dynamic minimal (shared libc, ld.so)"
if [ $qemu_ok = 1 ]; then
	r=$(fig startup qemu-microvm/mini-kvm 1)
	goal "≥ 15× faster start-up than QEMU microvm|≥ 15|$(printf '%.1f' "$r")×|$(check "$r" '>=' 15)|QEMU / ./mini-kvm wall, per-round median"
	r=$(fig startup qemu-microvm/mini-kvm 4)
	goal "≥ 30× less RSS than QEMU microvm|≥ 30|$(printf '%.1f' "$r")×|$(check "$r" '>=' 30)|QEMU / ./mini-kvm peak RSS"
	r=$(fig startup qemu-microvm/mini-kvm-dynamic 4)
	goal "≥ 30× less RSS than QEMU microvm (dynamic build)|≥ 30|$(printf '%.1f' "$r")×|$(check "$r" '>=' 30)|QEMU / mini-kvm-dynamic peak RSS"
fi

# ---------------------------------------------------------------- 1b: in-process phases
bench phases -n "$R" -o /dev/null -e "$W/phases.err" -- floor $B/floor -p -- lib $B/phases \
	-- mini-kvm ./mini-kvm --stats minimal
summarise ph < <(phases "$W/phases.err")
# mini-kvm --stats: main to the first KVM_RUN, and on to the guest's end
summarise mk < <(stats_us "$W/phases.err" | while read -r l r a b; do echo "$l.start $r $a" && echo "$l.run $r $b"; done)
cat <<EOF

## 1b. In-process phases of the same guest (ms, median (min–max) of $R runs each, interleaved)

\`floor -p\` times the raw ioctls; \`build/bench/phases\` does the same
through libminikvm (\`kvm_open\`, \`__vm_create\`, \`__vm_add_memory\` +
\`vm_load_flat\`, \`vcpu_add\` + \`vcpu_set_real_mode\`, \`vcpu_run\`,
\`vm_destroy\`).

| phase | floor (raw ioctls) | libminikvm |
|---|---|---|
| open /dev/kvm | $(ph_cell ph floor open) | $(ph_cell ph lib open) |
| create VM | $(ph_cell ph floor create_vm) | $(ph_cell ph lib create_vm) |
| memory slot (+ image) | $(ph_cell ph floor memory) | $(ph_cell ph lib memory) |
| vCPU (+ real-mode registers) | $(ph_cell ph floor vcpu) | $(ph_cell ph lib vcpu) |
| first KVM_RUN to the exit | $(ph_cell ph floor first_exit) | $(ph_cell ph lib first_exit) |
| teardown | $(ph_cell ph floor teardown) | $(ph_cell ph lib teardown) |

The mini-kvm command itself (\`--stats\`, same rounds): first guest
instruction $(cell %.2f mk mini-kvm.start 2 -3) ms after \`main\`, guest end $(cell %.2f mk mini-kvm.run 2 -3) ms after that.
Whole processes in this set: floor $(wall_cell phases floor), libminikvm
$(wall_cell phases lib) ($(ratio_cell phases lib floor wall) of the floor),
mini-kvm --stats $(wall_cell phases mini-kvm) ms.
EOF

# What bounds the start-up ratios, from the figures above.
sum_us() { # LABEL PHASE...: the phases' medians added up
	local l=$1 t=0 p
	shift
	for p; do t=$((t + $(fig ph "$l.$p" 2) + 0)); done
	echo $t
}
kvm_us=$(sum_us floor create_vm vcpu memory first_exit teardown)
lib_us=$(sum_us lib open create_vm vcpu memory)
fw=$(fig startup floor 2) fx=$(fig startup floor-x 2) mw=$(fig startup mini-kvm-dynamic 2) mx=$(fig startup mini-kvm-dynamic-x 2)
fsw=$(fig startup floor-static 2) fsx=$(fig startup floor-static-x 2) msw=$(fig startup mini-kvm 2) msx=$(fig startup mini-kvm-x 2)
cat <<EOF

**What bounds start-up here** (medians from the tables above):
- Static (./mini-kvm): mini-kvm minimal − floor-static = $(ms $((msw - fsw))) ms,
  exec only $(ms $((msx - fsx))) ms. Dynamic: mini-kvm-dynamic minimal − floor
  = $(ms $((mw - fw))) ms; of that, $(ms $((mx - fx))) ms is already there before
  \`/dev/kvm\` is opened (\`mini-kvm-dynamic --version\` − \`floor -x\`: exec and the
  dynamic loader for the larger binary).
- In the process: \`mini-kvm --stats\` reaches its first KVM_RUN $(printf %.2f "$(fig mk mini-kvm.start 2)e-3") ms after
  \`main\`; the same steps through the library alone (open, create VM, memory, vCPU
  in 1b) take $(ms "$lib_us") ms: the command's own setup (signals, a thread per
  guest) is the rest.
- Exec, dynamic loading and exit alone: $(ms "$fx") ms of the floor's $(ms "$fw") ms
  (static: $(ms "$fsx") of $(ms "$fsw") ms). KVM's own work for the VM (create VM, memory
  slot, vCPU, first exit, teardown in 1b) is $(ms "$kvm_us") ms: the floor's
  start-up is these two, and any VMM pays both.
EOF
if [ $qemu_ok = 1 ]; then
	qw=$(fig startup qemu-microvm 2) qx=$(fig startup qemu-x 2)
	cat <<EOF
- QEMU microvm: $(ms "$qw") ms, of which $(ms "$qx") ms is \`qemu-system-x86_64 -version\`
  (exec, loading its shared libraries, exit). Both pay KVM's own work for a
  VM, $(ms "$kvm_us") ms here by the floor's phases (1b): QEMU's time over that is
  $(printf %.1f "$((qw * 1000 / (kvm_us > 0 ? kvm_us : 1)))e-3")×, a rough ceiling for QEMU / mini-kvm in this place.
EOF
fi

fi # startup

# ---------------------------------------------------------------- 3: hypercall round trip
if want hcall; then
cp $B/guests/hcloop.bin "$W/hc.bin"
n0=1000
patch_count "$W/hc.bin" $n0
$B/floor -p "$W/hc.bin" 2>"$W/hc.cal" >/dev/null
read -r _ _ t0 < <(floor_us "$W/hc.cal")
N=$(calibrate $n0 "$t0" "$HC_MS" 1000 20000000)
patch_count "$W/hc.bin" "$N"
bench hcall -n "$R" -o /dev/null -e "$W/hc.err" -- floor $B/floor -p "$W/hc.bin" \
	-- mini-kvm ./mini-kvm --stats "$W/hc.bin" -- floor-mw $B/floor -p -m -w "$W/hc.bin" \
	-- mk-untimed ./mini-kvm "$W/hc.bin" -- mk-trace ./mini-kvm --trace="$W/hc.json" "$W/hc.bin"
# The run loops (first KVM_RUN to the end), µs: per call is that / N.
summarise hc < <(
	floor_us "$W/hc.err"
	stats_us "$W/hc.err" | while read -r l r _ b; do [ "$l" != mini-kvm ] || echo "$l $r $b"; done
)
per_call() { # LABEL: µs per call, median (min–max)
	local n a b c
	read -r n a b c <<<"${F[hc $1]:-}"
	[ -n "$c" ] || { printf '—'; return; }
	printf '%.2f (%.2f–%.2f)' "$((a * 1000 / N))e-3" "$((b * 1000 / N))e-3" "$((c * 1000 / N))e-3"
}
cat <<EOF

## 3. Hypercall round trip: $N × HC_PUTCHAR vs the bare PIO exit loop

One guest image (\`bench/guests/hcloop.S\`, the count calibrated here to
about $HC_MS ms): $N \`out\` instructions to port 0x500, then \`hlt\`.
Under mini-kvm each is an HC_PUTCHAR (the byte goes to stdout, which is
/dev/null); under the floor program each exit is re-entered at once
without a look at it. Time per call = the run loop (first KVM_RUN to the
end: \`floor -p\` phases, \`mini-kvm --stats\`) / $N; $R rounds, interleaved.

| | µs per exit, median (min–max) |
|---|---|
| floor: bare PIO exit loop | $(per_call floor) |
| mini-kvm: HC_PUTCHAR to /dev/null | $(per_call mini-kvm) |
| mini-kvm / floor, round by round | $(cell %.3f hc mini-kvm/floor 1 0 ×) |
| *diagnostic:* floor -m -w (mini-kvm's KVM_SET_SIGNAL_MASK, and EAX written back through \`kvm_run\` sync regs on every exit) | $(per_call floor-mw) |
| *diagnostic:* floor -m -w / floor: what KVM charges for those two | $(cell %.3f hc floor-mw/floor 1 0 ×) |
| *diagnostic:* mini-kvm / floor -m -w: mini-kvm's own userspace dispatch | $(cell %.3f hc mini-kvm/floor-mw 1 0 ×) |

Whole processes: floor $(wall_cell hcall floor) ms, mini-kvm
$(wall_cell hcall mini-kvm) ms ($(ratio_cell hcall mini-kvm floor wall)).
EOF
# What --stats and --trace add per exit: whole runs, less the untimed run of
# the same round, over N; in ns, which launch -s keeps as integers.
summarise hcx < <(awk -v n="$N" '$1 == "run" { w[$2, $3] = $4; r[$3] = 1 }
	END {
		for (i in r) {
			if (!(("mk-untimed", i) in w)) continue
			if (("mk-trace", i) in w) printf "trace %d %.0f\n", i, (w["mk-trace", i] - w["mk-untimed", i]) * 1000 / n
			if (("mini-kvm", i) in w) printf "stats %d %.0f\n", i, (w["mini-kvm", i] - w["mk-untimed", i]) * 1000 / n
		}
	}' "$W/hcall.out")
trace_bytes=$(stat -c %s "$W/hc.json" 2>/dev/null || echo 0)
cat <<EOF

## 3b. The exit trace's cost: the same loop with and without \`--trace\`

The same image, count and rounds as in 3 (interleaved with them), timed as
whole processes, fork to reaped, so that the trace's formatting and writing
are in: \`mini-kvm IMAGE\` (exits untimed: the run loop reads no clock),
\`mini-kvm --stats IMAGE\` (each exit timed for the time-per-reason table),
\`mini-kvm --trace=FILE IMAGE\` (timed, and each exit written to FILE). The
extra per exit is the whole run less the untimed run of the same round,
over the $N exits.

| | whole process ms, median (min–max) | × untimed, round by round | extra µs per exit, round by round |
|---|---|---|---|
| mini-kvm, untimed | $(wall_cell hcall mk-untimed) | 1 | — |
| mini-kvm --stats | $(wall_cell hcall mini-kvm) | $(ratio_cell hcall mini-kvm mk-untimed wall) | $(cell %.3f hcx stats 2 -3) |
| mini-kvm --trace=FILE | $(wall_cell hcall mk-trace) | $(ratio_cell hcall mk-trace mk-untimed wall) | $(cell %.3f hcx trace 2 -3) |

The trace of one run: $trace_bytes bytes for $N exits (two events each).
The run-loop figures of 3 come from \`mini-kvm --stats\`, so they include its
timing; the row above says what that costs.
EOF
r=$(fig hc mini-kvm/floor 1)
goal "hypercall round trip ≤ 1.03× bare PIO exit|≤ 1.03|$(printf '%.3f' "$r")×|$(check "$r" '<=' 1.03)|$N calls, run loop per call, per-round median"

fi # hcall

# ---------------------------------------------------------------- 4: irqchip
if want irqchip; then
bench irqchip -n "$R" -e "$W/irq.err" -- none $B/floor -o -p -- before $B/floor -o -p -i before \
	-- after $B/floor -o -p -i after
summarise irqph < <(phases "$W/irq.err")
irq_row() {
	local x=1
	[ "$1" = none ] || x=$(ratio_cell irqchip "$1" none wall)
	echo "| $2 | $(wall_cell irqchip "$1") | $x | $(ph_cell irqph "$1" memory) | $(ph_cell irqph "$1" irqchip) | $(ph_cell irqph "$1" vcpu) | $(ph_cell irqph "$1" first_exit) | $(ph_cell irqph "$1" teardown) |"
}
if command -v strace >/dev/null 2>&1; then
	strace -f -qq -e trace=ioctl -o "$W/strace.min" ./mini-kvm minimal >/dev/null 2>&1
	printf '0\n' | strace -f -qq -e trace=ioctl -o "$W/strace.os1k" ./mini-kvm build/guests/os1k.elf >/dev/null 2>&1
	ioctls() {
		local n k l=''
		while read -r n k; do l="${l:+$l, }$k ×$n"; done < <(grep -o 'KVM_[A-Z0-9_]*' "$1" | sort | uniq -c)
		echo "$l"
	}
	chips() { grep -c 'KVM_CREATE_IRQCHIP' "$1"; }
	irq_min=$(chips "$W/strace.min") irq_os1k=$(chips "$W/strace.os1k")
	strace_note="\`strace -f -e trace=ioctl ./mini-kvm minimal\` saw: $(ioctls "$W/strace.min") — KVM_CREATE_IRQCHIP $irq_min times.
For contrast, the protected-mode 1K OS (\`./mini-kvm build/guests/os1k.elf\`) made KVM_CREATE_IRQCHIP $irq_os1k time(s)."
else
	irq_min=unknown
	strace_note="(strace not found: the ioctl count of mini-kvm minimal was not taken.)"
fi
cat <<EOF

## 4. The in-kernel irqchip: what it costs, and that real mode does not pay it

The floor program, $R rounds interleaved, the guest \`out %al, \$0xf4\`
(with an irqchip \`hlt\` would stay in the kernel), with no irqchip, with
KVM_CREATE_IRQCHIP + KVM_CREATE_PIT2 before the memory slot, and after it.
Whole process ms, and phases in ms, median (min–max).

| irqchip | whole process | × none | memory slot | irqchip | vCPU | first exit | teardown |
|---|---|---|---|---|---|---|---|
$(irq_row none "none")
$(irq_row before "before the memory slot")
$(irq_row after "after the memory slot")

$strace_note
EOF
goal "real mode pays nothing for the irqchip|0 KVM_CREATE_IRQCHIP|$irq_min|$( [ "$irq_min" = 0 ] && echo met || echo missed)|an irqchip would cost $(ratio_cell irqchip before none wall) / $(ratio_cell irqchip after none wall) of the floor (before/after the slot)"

fi # irqchip

# ---------------------------------------------------------------- 5: multi-vCPU
if want multi; then
cp $B/guests/spin.bin "$W/spin.bin"
# Calibrated twice: a short first run is slowed by TCG translating the
# loop, so the second, at about a quarter of the target, sets the count.
C=20000000
for target_ms in $((SPIN_MS / 4)) "$SPIN_MS"; do
	c0=$C
	patch_count "$W/spin.bin" "$c0"
	./mini-kvm --stats "$W/spin.bin" 2>"$W/spin.cal" >/dev/null
	t0=0
	read -r _ _ _ t0 < <(stats_us "$W/spin.cal")
	C=$(calibrate "$c0" "$t0" "$target_ms" 1000000 4000000000)
done
patch_count "$W/spin.bin" "$C"
S=$W/spin.bin
bench multi -n "$RS" -t 300 -e "$W/multi.err" -- g1 ./mini-kvm --stats "$S" -- g2 ./mini-kvm --stats "$S" "$S" \
	-- g4 ./mini-kvm --stats "$S" "$S" "$S" "$S"
# Each guest's own run (first KVM_RUN to its end), from --stats: did they overlap?
summarise runs < <(stats_us "$W/multi.err" | while read -r l r _ b; do echo "$l $r $b"; done)
guest_run() { cell %.1f runs "$1" 2 -3; } # LABEL: ms over all guests of all rounds
# The control: the same scaling with plain processes, no KVM.
l0=200000000
$L -n 1 -- c $B/cpuloop $l0 >"$W/loop.cal" 2>/dev/null
t0=0
read -r _ _ _ t0 _ < <(grep '^run ' "$W/loop.cal")
LC=$(calibrate $l0 "$t0" "$SPIN_MS" 1000000 $((1 << 62)))
bench loops -n "$RS" -t 300 -- c1 $B/cpuloop "$LC" 1 -- c2 $B/cpuloop "$LC" 2 -- c4 $B/cpuloop "$LC" 4
# over K RATIO [DIV]: K / RATIO / DIV, to a thousandth (bash's integers)
over() {
	local m
	m=$(milli "$2")
	[ "$m" -gt 0 ] || { echo 0; return; }
	echo "$(($1 * 1000000 / (m * ${3:-1})))e-3"
}
multi_row() { # LABEL K [PREFIX SET WHAT]
	local k=$2 fit p=${3:-g} n=${4:-multi} what=${5:-mini-kvm} a b c
	fit=$((k < cores ? k : cores))
	if [ "$k" = 1 ]; then
		echo "| $what | 1 | $(wall_cell "$n" "${p}1") | 1 | 1 | 1.00 |"
		return
	fi
	read -r a b c _ <<<"${F[$n $p$k/${p}1]}"
	printf '| %s | %d | %s | %.2f (%.2f–%.2f) | %.2f× (%.2f–%.2f) | %.2f (%.2f–%.2f) |\n' "$what" "$k" \
		"$(wall_cell "$n" "$p$k")" "$a" "$b" "$c" "$(over "$k" "$a")" "$(over "$k" "$c")" "$(over "$k" "$b")" \
		"$(over "$k" "$a" "$fit")" "$(over "$k" "$c" "$fit")" "$(over "$k" "$b" "$fit")"
}
cat <<EOF

## 5. Several guests at once: \`mini-kvm g g …\`, one VM and one vCPU thread each

Each guest is the same fixed CPU work without exits (\`bench/guests/spin.S\`,
$C loop iterations, calibrated here to about $SPIN_MS ms), $RS rounds
interleaved, on $cores CPUs. Throughput = k × T(1) / T(k) (for k ≤ $cores
this is T(1) / T(k) × the number that fit on the cores); efficiency =
throughput / min(k, $cores): 1.00 is perfect scaling. Ratios round by round.

| what | k at once | wall ms | T(k) / T(1) | throughput × one | efficiency |
|---|---|---|---|---|---|
$(multi_row g1 1)
$(multi_row g2 2)
$(multi_row g4 4)
$(multi_row c1 1 c loops "control: plain processes, no KVM")
$(multi_row c2 2 c loops "control: plain processes, no KVM")
$(multi_row c4 4 c loops "control: plain processes, no KVM")

Each guest's own run, first KVM_RUN to its \`hlt\` (\`--stats\`), in ms: alone
$(guest_run g1); two at once $(guest_run g2); four at once $(guest_run g4).
Compare each guest's own run with T(k): the guests' VMs are made at once
(a thread each), but at exit the kernel tears the k VMs down one after the
other, and the CPUs are shared with the helper VM's own work (see the control).

The control runs \`build/bench/cpuloop $LC K\` (K processes counting down,
calibrated to about $SPIN_MS ms, no KVM) in the same place, $RS rounds
interleaved: the scaling the machine itself gives to CPU-bound work.
EOF
printf -v r '%.2f' "$(over 2 "$(fig multi g2/g1 1)")"
printf -v rc2 '%.2f' "$(over 2 "$(fig loops c2/c1 1)")"
goal "2 guests on 2 cores ≥ 1.9× one|≥ 1.9|${r}×|$(check "$r" '>=' 1.9)|$cores CPUs; plain processes (no KVM) got ${rc2}× in the same place"
pct() { awk -v x="$1" 'BEGIN { printf "%.0f", x * 100 }'; }
r=$(pct "$(over 4 "$(fig multi g4/g1 1)" "$cores")")
rc4=$(pct "$(over 4 "$(fig loops c4/c1 1)" "$cores")")
goal "4 guests on 2 cores ≥ 95% of the cores|≥ 95%|${r}%|$(check "$r" '>=' 95)|efficiency 4 × T(1) / T(4) / $cores CPUs, per-round median; plain processes got ${rc4}%"

fi # multi

# ---------------------------------------------------------------- 6b: the 1K OS under both
if want os1k; then
if [ $qemu_ok = 1 ] && [ -f build/guests/os1k.elf ]; then
	printf '0\n' >"$W/zero.in"
	bench os1k -n "$RS" -t 120 -i "$W/zero.in" -o /dev/null -- mini-kvm ./mini-kvm build/guests/os1k.elf \
		-- qemu-pc/1 "$QEMU" -M pc -accel kvm -m 16M -nodefaults -no-user-config -display none \
		-serial stdio -kernel build/guests/os1k.elf -device isa-debug-exit,iobase=0xf4,iosize=4
	cat <<EOF

## 6b. The 1K OS (\`build/guests/os1k.elf\`, multiboot), input "0\\n" (power off)

mini-kvm loads the ELF itself; QEMU runs \`-M pc -accel kvm -kernel\`
(SeaBIOS, then its multiboot loader), \`isa-debug-exit\` at 0xf4, the
serial port on stdio. $RS rounds interleaved.

| | wall ms | peak RSS KiB |
|---|---|---|
| mini-kvm | $(wall_cell os1k mini-kvm) | $(rss_cell os1k mini-kvm) |
| QEMU -M pc -accel kvm | $(wall_cell os1k qemu-pc) | $(rss_cell os1k qemu-pc) |
| QEMU / mini-kvm | $(ratio_cell os1k qemu-pc mini-kvm wall) | $(ratio_cell os1k qemu-pc mini-kvm rss) |
EOF
fi

fi # os1k

echo "@failures $failures"
