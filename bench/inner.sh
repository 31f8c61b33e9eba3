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
}

# stat NAME LABEL FIELD (1 n, 2-4 wall med/min/max us, 5-7 rss med/min/max KiB)
stat() { awk -v l="$2" -v f="$3" '$1 == "stat" && $2 == l { print $(f + 2) }' "$W/$1.out"; }
# ratio NAME LABEL BASE FIELD (1-3 wall med/min/max, 4-6 rss med/min/max)
ratio() { awk -v l="$2" -v b="$3" -v f="$4" '$1 == "ratio" && $2 == l && $3 == b { print $(f + 3) }' "$W/$1.out"; }

# Table cells: "median (min–max)" in ms, KiB, or as a ratio.
wall_cell() { awk -v a="$(stat "$1" "$2" 2)" -v b="$(stat "$1" "$2" 3)" -v c="$(stat "$1" "$2" 4)" \
	'BEGIN { printf "%.1f (%.1f–%.1f)", a / 1000, b / 1000, c / 1000 }'; }
rss_cell() { printf '%s (%s–%s)' "$(stat "$1" "$2" 5)" "$(stat "$1" "$2" 6)" "$(stat "$1" "$2" 7)"; }
ratio_cell() { # NAME LABEL BASE wall|rss
	local o=1
	[ "$4" = rss ] && o=4
	awk -v a="$(ratio "$1" "$2" "$3" $o)" -v b="$(ratio "$1" "$2" "$3" $((o + 1)))" \
		-v c="$(ratio "$1" "$2" "$3" $((o + 2)))" 'BEGIN { printf "%.2f× (%.2f–%.2f)", a, b, c }'
}
# check VALUE OP LIMIT: "met" or "missed"
check() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = op == "<=" ? v <= l : v >= l; print ok ? "met" : "missed" }'; }

# phases FILE: "label phase n median min max" from "@run LABEL N" and
# "phase NAME US" lines (medians over the rounds).
phase_stats() {
	awk '
	function med(s, n,   i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
		return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
	}
	$1 == "@run" { l = $2; next }
	$1 == "phase" { k = l SUBSEP $2; v[k, ++n[k]] = $3; if (!(k in seen)) { seen[k] = 1; order[++no] = k } }
	END {
		for (o = 1; o <= no; o++) {
			k = order[o]; split(k, p, SUBSEP); delete s
			for (i = 1; i <= n[k]; i++) s[i] = v[k, i]
			m = med(s, n[k]); mn = s[1]; mx = s[n[k]]
			print p[1], p[2], n[k], m, mn, mx
		}
	}' "$1"
}
ph() { awk -v l="$2" -v p="$3" -v f="$4" '$1 == l && $2 == p { print $(f + 2) }' "$1"; } # FILE LABEL PHASE 2-4
ph_cell() { # FILE LABEL PHASE
	local m
	m=$(ph "$1" "$2" "$3" 2)
	[ -n "$m" ] || { printf '—'; return; }
	awk -v a="$m" -v b="$(ph "$1" "$2" "$3" 3)" -v c="$(ph "$1" "$2" "$3" 4)" \
		'BEGIN { printf "%.2f (%.2f–%.2f)", a / 1000, b / 1000, c / 1000 }'
}

# patch_count IMAGE N: the 32-bit count at offset 2 of a bench guest.
patch_count() {
	local n=$2
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((n & 255)) $((n >> 8 & 255)) \
		$((n >> 16 & 255)) $((n >> 24 & 255)))" | dd of="$1" bs=1 seek=2 conv=notrunc status=none
}

# mk_loop_us FILE: mini-kvm --stats run-loop time (first KVM_RUN to end) per
# "@run" block: "label round us".
mk_loop_us() {
	awk '$1 == "@run" { l = $2; r = $3; next }
	/first guest instruction at/ { a = $5; b = $9; printf "%s %s %.0f\n", l, r, (b - a) * 1000 }' "$1"
}
# floor_loop_us FILE: floor -p run-loop time (first_exit + more_exits).
floor_loop_us() {
	awk '$1 == "@run" { if (l != "") printf "%s %s %.0f\n", l, r, t; l = $2; r = $3; t = 0; next }
	$1 == "phase" && ($2 == "first_exit" || $2 == "more_exits") { t += $3 }
	END { if (l != "") printf "%s %s %.0f\n", l, r, t }' "$1"
}

# ---------------------------------------------------------------- where we are
kmod=$(for m in kvm_intel kvm_amd kvm_pvm; do [ -d /sys/module/$m ] && echo $m; done | paste -sd " " -)
meta "kvm_kernel $(uname -r)"
meta "kvm_cpu $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $cores CPUs"
meta "kvm_module ${kmod:-unknown}"
meta "kvm_probe $(build/kvm-probe 2>&1 | head -n 1)"
meta "qemu $($QEMU --version 2>/dev/null | head -n 1)"
meta "rounds $R short, $RS long"

qemu_ok=1
command -v "$QEMU" >/dev/null 2>&1 || qemu_ok=0

# ---------------------------------------------------------------- 1, 2: start-up, RSS, QEMU microvm
if want startup; then
QEMU_MICROVM=("$QEMU" -M microvm -accel kvm -m 16M -nodefaults -no-user-config -display none
	-bios $B/guests/qemu-exit.bin -device isa-debug-exit,iobase=0xf4,iosize=4)
startup_cmds=(-- empty $B/empty -- floor $B/floor -- floor-static $B/floor-static
	-- mini-kvm ./mini-kvm minimal -- mini-kvm-dynamic $B/mini-kvm-dynamic minimal
	-- floor-x $B/floor -x -- floor-static-x $B/floor-static -x
	-- mini-kvm-x ./mini-kvm --version -- mini-kvm-dynamic-x $B/mini-kvm-dynamic --version)
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

QEMU against ./mini-kvm, round by round: wall $(ratio_cell startup qemu-microvm mini-kvm wall),
peak RSS $(ratio_cell startup qemu-microvm mini-kvm rss);
against mini-kvm-dynamic: wall $(ratio_cell startup qemu-microvm mini-kvm-dynamic wall),
peak RSS $(ratio_cell startup qemu-microvm mini-kvm-dynamic rss).
EOF
fi

r=$(ratio startup mini-kvm floor-static 1)
goal "start-up ≤ 1.15× floor|≤ 1.15|$(printf '%.2f' "$r")×|$(check "$r" '<=' 1.15)|./mini-kvm minimal / floor-static (both static), wall, per-round median"
r=$(ratio startup mini-kvm-dynamic floor 1)
goal "start-up ≤ 1.15× floor (dynamic build)|≤ 1.15|$(printf '%.2f' "$r")×|$(check "$r" '<=' 1.15)|mini-kvm-dynamic minimal / floor (both dynamic)"
m=$(stat startup mini-kvm 5)
goal "peak RSS ≤ 1 MiB, real-mode guest|≤ 1024 KiB|$m KiB|$(check "$m" '<=' 1024)|./mini-kvm minimal (static); launcher floor $(stat startup empty 5) KiB"
m=$(stat startup mini-kvm-dynamic 5)
goal "peak RSS ≤ 1 MiB, real-mode guest (dynamic build)|≤ 1024 KiB|$m KiB|$(check "$m" '<=' 1024)|mini-kvm-dynamic minimal (shared libc, ld.so)"
if [ $qemu_ok = 1 ]; then
	r=$(ratio startup qemu-microvm mini-kvm 1)
	goal "≥ 15× faster start-up than QEMU microvm|≥ 15|$(printf '%.1f' "$r")×|$(check "$r" '>=' 15)|QEMU / ./mini-kvm wall, per-round median"
	r=$(ratio startup qemu-microvm mini-kvm 4)
	goal "≥ 30× less RSS than QEMU microvm|≥ 30|$(printf '%.1f' "$r")×|$(check "$r" '>=' 30)|QEMU / ./mini-kvm peak RSS"
	r=$(ratio startup qemu-microvm mini-kvm-dynamic 4)
	goal "≥ 30× less RSS than QEMU microvm (dynamic build)|≥ 30|$(printf '%.1f' "$r")×|$(check "$r" '>=' 30)|QEMU / mini-kvm-dynamic peak RSS"
fi

# ---------------------------------------------------------------- 1b: in-process phases
bench phases -n "$R" -o /dev/null -e "$W/phases.err" -- floor $B/floor -p -- lib $B/phases \
	-- mini-kvm ./mini-kvm --stats minimal
phase_stats "$W/phases.err" >"$W/phases.st"
mk_loop_us "$W/phases.err" >"$W/phases.mk"
mkstat() { # which: 1 = main to first KVM_RUN, 2 = first KVM_RUN to end
	awk -v w="$1" '$1 == "@run" { next }
	/first guest instruction at/ { v[++n] = (w == 1 ? $5 : $9 - $5) }
	END { for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	      if (n) printf "%.2f (%.2f–%.2f)", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, v[1], v[n] }' "$W/phases.err"
}
cat <<EOF

## 1b. In-process phases of the same guest (ms, median (min–max) of $R runs each, interleaved)

\`floor -p\` times the raw ioctls; \`build/bench/phases\` does the same
through libminikvm (\`kvm_open\`, \`__vm_create\`, \`__vm_add_memory\` +
\`vm_load_flat\`, \`vcpu_add\` + \`vcpu_set_real_mode\`, \`vcpu_run\`,
\`vm_destroy\`).

| phase | floor (raw ioctls) | libminikvm |
|---|---|---|
| open /dev/kvm | $(ph_cell "$W/phases.st" floor open) | $(ph_cell "$W/phases.st" lib open) |
| create VM | $(ph_cell "$W/phases.st" floor create_vm) | $(ph_cell "$W/phases.st" lib create_vm) |
| memory slot (+ image) | $(ph_cell "$W/phases.st" floor memory) | $(ph_cell "$W/phases.st" lib memory) |
| vCPU (+ real-mode registers) | $(ph_cell "$W/phases.st" floor vcpu) | $(ph_cell "$W/phases.st" lib vcpu) |
| first KVM_RUN to the exit | $(ph_cell "$W/phases.st" floor first_exit) | $(ph_cell "$W/phases.st" lib first_exit) |
| teardown | $(ph_cell "$W/phases.st" floor teardown) | $(ph_cell "$W/phases.st" lib teardown) |

The mini-kvm command itself (\`--stats\`, same rounds): first guest
instruction $(mkstat 1) ms after \`main\`, guest end $(mkstat 2) ms after that.
Whole processes in this set: floor $(wall_cell phases floor), libminikvm
$(wall_cell phases lib) ($(ratio_cell phases lib floor wall) of the floor),
mini-kvm --stats $(wall_cell phases mini-kvm) ms.
EOF

# What bounds the start-up ratios, from the figures above.
ms() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'; }
sub_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (a - b) / 1000 }'; }
kvm_us=$(awk '$1 == "floor" && ($2 == "create_vm" || $2 == "vcpu" || $2 == "memory" || $2 == "first_exit" || $2 == "teardown") { t += $4 } END { print t + 0 }' "$W/phases.st")
lib_us=$(awk '$1 == "lib" && ($2 == "open" || $2 == "create_vm" || $2 == "vcpu" || $2 == "memory") { t += $4 } END { print t + 0 }' "$W/phases.st")
fw=$(stat startup floor 2) fx=$(stat startup floor-x 2) mw=$(stat startup mini-kvm-dynamic 2) mx=$(stat startup mini-kvm-dynamic-x 2)
fsw=$(stat startup floor-static 2) fsx=$(stat startup floor-static-x 2) msw=$(stat startup mini-kvm 2) msx=$(stat startup mini-kvm-x 2)
cat <<EOF

**What bounds start-up here** (medians from the tables above):
- Static (./mini-kvm): mini-kvm minimal − floor-static = $(sub_ms "$msw" "$fsw") ms,
  exec only $(sub_ms "$msx" "$fsx") ms. Dynamic: mini-kvm-dynamic minimal − floor
  = $(sub_ms "$mw" "$fw") ms; of that, $(sub_ms "$mx" "$fx") ms is already there before
  \`/dev/kvm\` is opened (\`mini-kvm-dynamic --version\` − \`floor -x\`: exec and the
  dynamic loader for the larger binary).
- In the process: \`mini-kvm --stats\` reaches its first KVM_RUN $(mkstat 1 | cut -d' ' -f1) ms after
  \`main\`; the same steps through the library alone (open, create VM, memory, vCPU
  in 1b) take $(ms "$lib_us") ms: the command's own setup (signals, a thread per
  guest) is the rest.
- Exec, dynamic loading and exit alone: $(ms "$fx") ms of the floor's $(ms "$fw") ms
  (static: $(ms "$fsx") of $(ms "$fsw") ms). KVM's own work for the VM (create VM, memory
  slot, vCPU, first exit, teardown in 1b) is $(ms "$kvm_us") ms: the floor's
  start-up is these two, and any VMM pays both.
EOF
if [ $qemu_ok = 1 ]; then
	qw=$(stat startup qemu-microvm 2) qx=$(stat startup qemu-x 2)
	cat <<EOF
- QEMU microvm: $(ms "$qw") ms, of which $(ms "$qx") ms is \`qemu-system-x86_64 -version\`
  (exec, loading its shared libraries, exit). Both pay KVM's own work for a
  VM, $(ms "$kvm_us") ms here by the floor's phases (1b): QEMU's time over that is
  $(awk -v q="$qw" -v k="$kvm_us" 'BEGIN { printf "%.1f", q / k }')×, a rough ceiling for QEMU / mini-kvm in this place.
EOF
fi

fi # startup

# ---------------------------------------------------------------- 3: hypercall round trip
if want hcall; then
cp $B/guests/hcloop.bin "$W/hc.bin"
n0=1000
patch_count "$W/hc.bin" $n0
$B/floor -p "$W/hc.bin" 2>"$W/hc.cal" >/dev/null
t0=$(awk '$1 == "phase" && ($2 == "first_exit" || $2 == "more_exits") { t += $3 } END { print t + 0 }' "$W/hc.cal")
N=$(awk -v t="$t0" -v n="$n0" -v ms="$HC_MS" 'BEGIN { x = t > 0 ? int(n * ms * 1000 / t) : n; if (x < 1000) x = 1000; if (x > 20000000) x = 20000000; print x }')
patch_count "$W/hc.bin" "$N"
bench hcall -n "$R" -o /dev/null -e "$W/hc.err" -- floor $B/floor -p "$W/hc.bin" \
	-- mini-kvm ./mini-kvm --stats "$W/hc.bin" -- floor-mw $B/floor -p -m -w "$W/hc.bin"
{ floor_loop_us "$W/hc.err" | awk '$1 ~ /^floor/'; mk_loop_us "$W/hc.err" | awk '$1 == "mini-kvm"'; } >"$W/hc.loop"
hc_stats() { # A B: "A_med A_min A_max B_med B_min B_max ratio_med ratio_min ratio_max" (us per call, ratio B/A)
	awk -v n="$N" -v A="${1:-floor}" -v B="${2:-mini-kvm}" '
	function sort(s, k,   i, j, t) { for (i = 2; i <= k; i++) for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t } }
	function med(s, k) { return k % 2 ? s[(k + 1) / 2] : (s[k / 2] + s[k / 2 + 1]) / 2 }
	$1 == A { f[$2] = $3 / n } $1 == B { m[$2] = $3 / n }
	END {
		for (r in f) if (r in m) { a[++k] = f[r]; b[k] = m[r]; c[k] = m[r] / f[r] }
		sort(a, k); sort(b, k); sort(c, k)
		printf "%.2f %.2f %.2f %.2f %.2f %.2f %.3f %.3f %.3f\n", med(a, k), a[1], a[k], med(b, k), b[1], b[k], med(c, k), c[1], c[k]
	}' "$W/hc.loop"
}
read -r f1 f2 f3 m1 m2 m3 r1 r2 r3 <<<"$(hc_stats floor mini-kvm)"
read -r _ _ _ w1 w2 w3 q1 q2 q3 <<<"$(hc_stats floor floor-mw)"
read -r _ _ _ _ _ _ p1 p2 p3 <<<"$(hc_stats floor-mw mini-kvm)"
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
| floor: bare PIO exit loop | $f1 ($f2–$f3) |
| mini-kvm: HC_PUTCHAR to /dev/null | $m1 ($m2–$m3) |
| mini-kvm / floor, round by round | $(printf '%.3f× (%.3f–%.3f)' "$r1" "$r2" "$r3") |
| *diagnostic:* floor -m -w (mini-kvm's KVM_SET_SIGNAL_MASK, and EAX written back through \`kvm_run\` sync regs on every exit) | $w1 ($w2–$w3) |
| *diagnostic:* floor -m -w / floor: what KVM charges for those two | $(printf '%.3f× (%.3f–%.3f)' "$q1" "$q2" "$q3") |
| *diagnostic:* mini-kvm / floor -m -w: mini-kvm's own userspace dispatch | $(printf '%.3f× (%.3f–%.3f)' "$p1" "$p2" "$p3") |

Whole processes: floor $(wall_cell hcall floor) ms, mini-kvm
$(wall_cell hcall mini-kvm) ms ($(ratio_cell hcall mini-kvm floor wall)).
EOF
goal "hypercall round trip ≤ 1.10× bare PIO exit|≤ 1.10|$(printf '%.3f' "$r1")×|$(check "$r1" '<=' 1.10)|$N calls, run loop per call, per-round median"

fi # hcall

# ---------------------------------------------------------------- 4: irqchip
if want irqchip; then
bench irqchip -n "$R" -e "$W/irq.err" -- none $B/floor -o -p -- before $B/floor -o -p -i before \
	-- after $B/floor -o -p -i after
phase_stats "$W/irq.err" >"$W/irq.st"
irq_row() {
	echo "| $2 | $(wall_cell irqchip "$1") | $( [ "$1" = none ] && echo 1 || ratio_cell irqchip "$1" none wall) | $(ph_cell "$W/irq.st" "$1" memory) | $(ph_cell "$W/irq.st" "$1" irqchip) | $(ph_cell "$W/irq.st" "$1" vcpu) | $(ph_cell "$W/irq.st" "$1" first_exit) | $(ph_cell "$W/irq.st" "$1" teardown) |"
}
if command -v strace >/dev/null 2>&1; then
	strace -f -qq -e trace=ioctl -o "$W/strace.min" ./mini-kvm minimal >/dev/null 2>&1
	printf '0\n' | strace -f -qq -e trace=ioctl -o "$W/strace.os1k" ./mini-kvm build/guests/os1k.elf >/dev/null 2>&1
	ioctls() { grep -o 'KVM_[A-Z0-9_]*' "$1" | sort | uniq -c | awk '{ printf "%s%s ×%s", n++ ? ", " : "", $2, $1 }'; }
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
	patch_count "$W/spin.bin" $c0
	./mini-kvm --stats "$W/spin.bin" 2>"$W/spin.cal" >/dev/null
	t0=$(mk_loop_us "$W/spin.cal" | awk '{ print $3 }')
	[ -n "$t0" ] || t0=$(awk '/first guest instruction at/ { printf "%.0f", ($9 - $5) * 1000 }' "$W/spin.cal")
	C=$(awk -v t="${t0:-0}" -v n="$c0" -v ms="$target_ms" 'BEGIN { x = t > 0 ? int(n * ms * 1000 / t) : n; if (x < 1000000) x = 1000000; if (x > 4000000000) x = 4000000000; print x }')
done
patch_count "$W/spin.bin" "$C"
S=$W/spin.bin
bench multi -n "$RS" -t 300 -e "$W/multi.err" -- g1 ./mini-kvm --stats "$S" -- g2 ./mini-kvm --stats "$S" "$S" \
	-- g4 ./mini-kvm --stats "$S" "$S" "$S" "$S"
# Each guest's own run (first KVM_RUN to its end), from --stats: did they overlap?
guest_run() { # LABEL: "median (min–max)" ms over all guests of all rounds
	mk_loop_us "$W/multi.err" | awk -v l="$1" '$1 == l { v[++n] = $3 / 1000 }
	END { for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	      if (n) printf "%.1f (%.1f–%.1f)", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, v[1], v[n] }'
}
# The control: the same scaling with plain processes, no KVM.
l0=200000000
$L -n 1 -- c $B/cpuloop $l0 >"$W/loop.cal" 2>/dev/null
t0=$(awk '$1 == "run" { print $4 }' "$W/loop.cal")
LC=$(awk -v t="${t0:-0}" -v n="$l0" -v ms="$SPIN_MS" 'BEGIN { x = t > 0 ? int(n * ms * 1000 / t) : n; if (x < 1000000) x = 1000000; printf "%d", x }')
bench loops -n "$RS" -t 300 -- c1 $B/cpuloop "$LC" 1 -- c2 $B/cpuloop "$LC" 2 -- c4 $B/cpuloop "$LC" 4
multi_row() { # LABEL K [NAME]
	local k=$2 fit p=${3:-g} n=${4:-multi} what=${5:-mini-kvm}
	fit=$((k < cores ? k : cores))
	if [ "$k" = 1 ]; then
		echo "| $what | 1 | $(wall_cell $n ${p}1) | 1 | 1 | 1.00 |"
		return
	fi
	awk -v k="$k" -v fit="$fit" -v a="$(ratio $n "$p$k" ${p}1 1)" -v b="$(ratio $n "$p$k" ${p}1 2)" -v c="$(ratio $n "$p$k" ${p}1 3)" \
		-v w="$(wall_cell $n "$p$k")" -v what="$what" 'BEGIN {
		printf "| %s | %d | %s | %.2f (%.2f–%.2f) | %.2f× (%.2f–%.2f) | %.2f (%.2f–%.2f) |\n", what, k, w, a, b, c,
			k / a, k / c, k / b, k / a / fit, k / c / fit, k / b / fit }'
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
r=$(awk -v a="$(ratio multi g2 g1 1)" 'BEGIN { printf "%.2f", 2 / a }')
rc2=$(awk -v a="$(ratio loops c2 c1 1)" 'BEGIN { printf "%.2f", 2 / a }')
goal "2 guests on 2 cores ≥ 1.8× one|≥ 1.8|${r}×|$(check "$r" '>=' 1.8)|$cores CPUs; plain processes (no KVM) got ${rc2}× in the same place"

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
