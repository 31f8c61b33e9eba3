#!/bin/sh
# SPDX-License-Identifier: MIT
# usage_test: what the mini-kvm command answers before it opens /dev/kvm.
# --help, --version and --list on stdout; the bad command lines (unknown
# options, an option without its value, bad --mem, --timeout, --mode and
# --cpu values, --cpu and --no-pit for a real-mode guest, five guests, an
# ELF image with --mode=real), each refused with exit 2, one line naming
# the problem and "Try 'mini-kvm --help'"; and the images that cannot
# start (exit 126, exactly one line): missing, no file and no built-in, a
# directory, not a regular file, empty, unreadable, too
# big for the guest memory, and ELF images that break each field the
# loader checks (built here with image_builders.sh from a valid baseline,
# which bad_input_test.sh runs), also as one bad guest among several, when
# nothing runs. The command reads and checks every image before it opens
# /dev/kvm, so none of this needs a KVM (nor /dev/null: it passes with a
# bare tmpfs on /dev), and run_tests.sh runs it on the host, outside the
# helper VM; it skips (exit 4) only when there is no mini-kvm command.
# The table of all three scripts is in the README. TAP; exits 0 pass, 1
# fail, 4 skip.
set -u -f
# The command: $MINI_KVM, else beside selftests/ (the tree, build/san/),
# else beside this script (make install).
here=$(cd "$(dirname "$0")" && pwd)
mkvm=${MINI_KVM:-}
for c in "$here/../mini-kvm" "$here/mini-kvm"; do
	[ -z "$mkvm" ] && [ -f "$c" ] && [ -x "$c" ] && mkvm=$c
done
. "$here/tap.sh"
if [ -z "$mkvm" ] || [ ! -x "$mkvm" ]; then
	skip_all "no mini-kvm command beside $here (run make, or set MINI_KVM)"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/in" # stdin: not /dev/null, which a bare tmpfs on /dev lacks too
. "$here/image_builders.sh"
nl='
'

# run NAME RC STDERR [STDOUT...] -- ARGS...: mini-kvm ARGS (stdin empty,
# at most $limit s; run through $wrap when set) must exit RC with STDERR
# (grep -E) on the first line of stderr, and each STDOUT (grep -E) on some
# line of stdout. Exit 0: stderr is empty. Exit 2, a usage error: two
# lines, the second pointing to --help. Any other exit: exactly one line.
wrap='' limit=30
run() {
	name=$1 want_rc=$2 err_re=$3 out_res='' why=''
	shift 3
	while [ "$1" != -- ]; do out_res="$out_res$1$nl"; shift; done
	shift
	# shellcheck disable=SC2086 # $wrap: a command and its options, or nothing
	timeout -k 5 "$limit" $wrap "$mkvm" "$@" >"$tmp/out" 2>"$tmp/err" <"$tmp/in"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	{ IFS= read -r first; IFS= read -r second; } <"$tmp/err"
	case $want_rc in 0) want_lines=0 ;; 2) want_lines=2 ;; *) want_lines=1 ;; esac
	[ "$rc" = "$want_rc" ] || why="exit $rc, expected $want_rc$nl"
	printf '%s\n' "$first" | grep -qE -- "$err_re" || why="${why}stderr does not match /$err_re/$nl"
	[ "$lines" = "$want_lines" ] || why="${why}stderr has $lines lines, expected $want_lines$nl"
	if [ "$want_rc" = 2 ] && [ "$second" != "Try 'mini-kvm --help' for more information." ]; then
		why="${why}no \"Try 'mini-kvm --help'\" line$nl"
	fi
	IFS=$nl
	for re in $out_res; do
		grep -qE -- "$re" "$tmp/out" || why="${why}stdout lacks /$re/$nl"
	done
	unset IFS
	if [ -z "$why" ]; then
		ok "$name" "$first"
	else
		not_ok "$name" "${why%"$nl"}" "$(head -c 600 "$tmp/err" | sed 's/^/stderr: /')"
	fi
}
# rss_below NAME KIB ARGS...: mini-kvm ARGS peaks below KIB of memory
# (GNU time's %M: the process's own peak RSS).
rss_below() {
	name=$1 max=$2
	shift 2
	if ! /usr/bin/time -f %M -o "$tmp/rss" true 2>/dev/null; then
		skip "$name" "no GNU time to measure peak RSS"
		return
	fi
	/usr/bin/time -f %M -o "$tmp/rss" "$mkvm" "$@" >/dev/null 2>&1 <"$tmp/in"
	rss=$(tail -n 1 "$tmp/rss")
	if [ "$rss" -lt "$max" ]; then
		ok "$name" "$rss KiB"
	else
		not_ok "$name" "peak RSS $rss KiB, expected below $max KiB"
	fi
}
# no_stdout NAME: the last run wrote nothing on stdout (no guest ran).
no_stdout() {
	if [ -s "$tmp/out" ]; then
		not_ok "$1" "$(head -c 600 "$tmp/out" | sed 's/^/stdout: /')"
	else
		ok "$1"
	fi
}

# ---- what it says on stdout, exit 0 ----
run help 0 '^$' "Exit status" 124 125 126 --timeout -- --help
run version 0 '^$' '^mini-kvm [0-9]' -- --version
run list 0 '^$' '^minimal ' '^hello ' '^counter ' '^multiplication ' '^fibonacci ' \
	'^matrix ' '^hctest ' -- --list

# ---- bad command lines: 2 ----
run unknown_option 2 "^mini-kvm: unknown option '--frobnicate'$" -- --frobnicate hello
run "unknown short option" 2 "^mini-kvm: unknown option '-x'" -- -x hello
run "option without its value" 2 "^mini-kvm: option '--mem' needs a value" -- hello --mem
run mem_negative 2 "^mini-kvm: --mem=-1: not a size" -- --mem=-1 hello
run mem_not_pages 2 "^mini-kvm: --mem=5000: must be a multiple of 4K" -- --mem=5000 hello
run "--mem=0" 2 "^mini-kvm: --mem=0: the guest needs some memory" -- --mem=0 hello
run "--mem=4G (above 3G)" 2 "^mini-kvm: --mem=4G: too large" -- --mem=4G hello
run "--mem=2^70 (overflows)" 2 "^mini-kvm: --mem=1180591620717411303424: not a size" -- \
	--mem=1180591620717411303424 hello
run "--mem=12Q (bad suffix)" 2 "^mini-kvm: --mem=12Q: not a size" -- --mem=12Q hello
run timeout_not_number 2 "^mini-kvm: --timeout=abc: not a number of seconds" -- --timeout=abc hello
run "--timeout=-1" 2 "^mini-kvm: --timeout=-1: not a number of seconds" -- --timeout=-1 hello
run "--timeout=5000000 (too long)" 2 "^mini-kvm: --timeout=5000000: too long" -- --timeout=5000000 hello
run "--timeout=1e3 (no exponents)" 2 "^mini-kvm: --timeout=1e3: not a number of seconds" -- --timeout=1e3 hello
run "--mode=long" 2 "^mini-kvm: --mode=long: must be 'real' or 'protected'" -- --mode=long hello
run "--cpu=IvyBridge (a model mini-kvm lacks)" 2 \
	"^mini-kvm: --cpu=IvyBridge: unknown CPU model 'IvyBridge'" -- --cpu=IvyBridge hello
run "--cpu=max,+frob (unknown feature)" 2 \
	"^mini-kvm: --cpu=max,\\+frob: unknown CPU feature 'frob' \\(known: vmx, pcid" -- \
	--cpu=max,+frob hello
run "--cpu=max,vendor=Intel (not 12 characters)" 2 \
	"^mini-kvm: --cpu=max,vendor=Intel: vendor=Intel: must be 12 characters" -- \
	--cpu=max,vendor=Intel hello
run "--cpu=max,,+pcid (empty item)" 2 "^mini-kvm: --cpu=max,,\\+pcid: an empty item" -- \
	--cpu=max,,+pcid hello
run "--cpu with a real-mode guest" 2 "^mini-kvm: hello: --smp, --append, --initrd, --cpu" -- \
	--cpu=max,-pcid hello
run "--no-pit with a real-mode guest" 2 "^mini-kvm: hello: .*--no-pit need a protected-mode" -- \
	--no-pit hello
run five_guests 2 "^mini-kvm: 5 guests: at most 4 run at once" -- hello hello hello hello hello

# ---- images, read and checked before /dev/kvm is opened ----
printf '\177ELF\1\1\1' >"$tmp/elf.bin" # the magic is enough to choose the mode
: >"$tmp/empty.bin"
truncate -s 8192 "$tmp/big.bin"
truncate -s 1G "$tmp/sparse.bin"
printf '\364' >"$tmp/unreadable.bin"
chmod 000 "$tmp/unreadable.bin"
mkfifo "$tmp/fifo"
elf "$tmp/good.elf" 1 3 2 $mb 52 32
elf "$tmp/class64.elf" 2 3 2 $mb 52 32
elf "$tmp/x86_64.elf" 1 62 2 $mb 52 32
elf "$tmp/dyn.elf" 1 3 3 $mb 52 32
elf "$tmp/phentsize.elf" 1 3 2 $mb 52 40
elf "$tmp/phoff.elf" 1 3 2 $mb 4000 32
elf "$tmp/entry.elf" 1 3 2 $((mb + 12)) 52 32
cp "$tmp/entry.elf" "$tmp/entry_sparse.elf"
truncate -s 1G "$tmp/entry_sparse.elf" # 1 GiB of "sections" after the segment
{ ehdr 1 3 2 $mb 52 32 0; phdr 84 $mb 12 12; code; flush; } >"$tmp/phnum0.elf"
head -c 30 "$tmp/good.elf" >"$tmp/truncated.elf"
head -c 60 "$tmp/good.elf" >"$tmp/truncated_phdr.elf"
{ ehdr 1 3 2 $mb 52 32 1; phdr 84 $mb 400 400; code; flush; } >"$tmp/filesz.elf"
{ ehdr 1 3 2 $mb 52 32 1; phdr 84 $mb 12 2; code; flush; } >"$tmp/memsz.elf"
{ ehdr 1 3 2 $((512 * mb)) 52 32 1; phdr 84 $((512 * mb)) 12 12; code; flush; } >"$tmp/outside.elf"
# A segment with 1 GiB of file data, in a sparse 1 GiB file.
{ ehdr 1 3 2 "$mb" 52 32 1; phdr 84 "$mb" $((1024 * mb - 84)) $((1024 * mb)); code; flush; } >"$tmp/huge_segment.elf"
truncate -s 1G "$tmp/huge_segment.elf"
{ ehdr 1 3 2 $mb 52 32 2; phdr 116 $mb 12 4096; phdr 116 $((mb + 4000)) 12 12; code; flush; } >"$tmp/overlap.elf"
# (the count is checked first: the headers themselves may be PT_NULL zeros)
{ ehdr 1 3 2 $mb 52 32 1100; flush; } >"$tmp/phnum_huge.elf"
truncate -s $((52 + 1100 * 32)) "$tmp/phnum_huge.elf"

run elf_real_mode 2 "^mini-kvm: $tmp/elf.bin: an ELF image runs in protected mode only$" -- \
	--mode=real "$tmp/elf.bin"
run "ELF with --mode=real" 2 "^mini-kvm: $tmp/good.elf: an ELF image runs in protected mode only$" -- \
	--mode=real "$tmp/good.elf"
run missing_file 126 "^mini-kvm: $tmp/nosuch.bin: No such file or directory$" -- "$tmp/nosuch.bin"
run not_builtin 126 \
	"^mini-kvm: nosuchguest: no such file, and no built-in guest of that name \(see mini-kvm --list\)$" -- \
	nosuchguest
run directory 126 "^mini-kvm: $tmp: is a directory, not a guest image$" -- "$tmp"
if [ -c /dev/null ]; then
	run "not a regular file (/dev/null)" 126 "^mini-kvm: /dev/null: not a regular file$" -- /dev/null
else
	skip "not a regular file (/dev/null)" "no /dev/null here (a bare /dev); the FIFO below"
fi
# Nobody writes to it: an open() that waited for a writer would hang.
limit=5
run "not a regular file (a FIFO nobody writes to)" 126 "^mini-kvm: $tmp/fifo: not a regular file$" -- \
	"$tmp/fifo"
limit=30
run empty_file 126 "^mini-kvm: $tmp/empty.bin: image is empty$" -- "$tmp/empty.bin"
run too_big 126 \
	"^mini-kvm: $tmp/big.bin: image is 8192 bytes, larger than the guest memory at 0x0 \(4096 bytes\)$" -- \
	--mem=4K "$tmp/big.bin"
# Refused on its size, before it is read: no 1 GiB of memory, no seconds.
run "a 1 GiB sparse image, 256K of guest memory" 126 \
	"^mini-kvm: $tmp/sparse.bin: image is 1073741824 bytes, larger than the guest memory at 0x0 \(262144 bytes\)$" -- \
	"$tmp/sparse.bin"
rss_below "  ... refused without reading it" 65536 "$tmp/sparse.bin"
unreadable="^mini-kvm: $tmp/unreadable.bin: Permission denied$"
if [ "$(id -u)" != 0 ]; then
	run "unreadable file" 126 "$unreadable" -- "$tmp/unreadable.bin"
elif command -v setpriv >"$tmp/out" &&
	! setpriv --bounding-set=-dac_override,-dac_read_search cat "$tmp/unreadable.bin" >"$tmp/out" 2>&1; then
	# root reads anything: drop the capabilities that let it
	wrap="setpriv --bounding-set=-dac_override,-dac_read_search"
	run "unreadable file (root without CAP_DAC_*)" 126 "$unreadable" -- "$tmp/unreadable.bin"
	wrap=
else
	skip "unreadable file" "running as root, and setpriv cannot drop CAP_DAC_OVERRIDE here"
fi

# elf_bad NAME FILE MESSAGE: FILE is refused with "mini-kvm: FILE: MESSAGE".
elf_bad() { run "$1" 126 "^mini-kvm: $tmp/$2: $3$" -- "$tmp/$2"; }
elf_bad "ELF truncated header" truncated.elf "not an ELF file \(bad magic or truncated header\)"
elf_bad "ELF truncated program headers" truncated_phdr.elf "ELF program headers lie outside the file"
elf_bad "ELF class 64" class64.elf "ELF class 2: only 32-bit \(ELFCLASS32\) images are supported"
elf_bad "ELF machine x86-64" x86_64.elf "ELF machine 62: only little-endian i386 \(EM_386\) is supported"
elf_bad "ELF type ET_DYN" dyn.elf "ELF type 3: only executables \(ET_EXEC\) can be loaded"
elf_bad "ELF e_phentsize 40" phentsize.elf "ELF has no usable program headers"
elf_bad "ELF e_phnum 0" phnum0.elf "ELF has no usable program headers"
elf_bad "ELF program headers out of file" phoff.elf "ELF program headers lie outside the file"
elf_bad "ELF 1100 program headers" phnum_huge.elf "ELF has 1100 program headers, more than the 1024 supported"
elf_bad "ELF segment data out of file" filesz.elf "ELF segment at 0x100000: file data lies outside the file"
elf_bad "ELF p_filesz > p_memsz" memsz.elf "ELF segment at 0x100000: file size exceeds memory size"
elf_bad "ELF segment outside guest memory" outside.elf \
	"ELF segment 0x20000000-0x2000000c lies outside guest memory \(16777216 bytes\)"
elf_bad "ELF segments overlap" overlap.elf "ELF segments at 0x100000 and 0x100fa0 overlap"
elf_bad "ELF entry outside every segment" entry.elf "ELF entry point 0x10000c lies outside every loaded segment"
# Only the headers and the segments' data are read: neither a 1 GiB tail
# nor a segment's 1 GiB that cannot fit the guest memory.
elf_bad "ELF with a sparse 1 GiB tail" entry_sparse.elf \
	"ELF entry point 0x10000c lies outside every loaded segment"
rss_below "  ... refused without reading the tail" 65536 "$tmp/entry_sparse.elf"
elf_bad "ELF segment with 1 GiB of file data" huge_segment.elf \
	"ELF segment 0x100000-0x40100000 lies outside guest memory \(16777216 bytes\)"
rss_below "  ... refused without reading the segment" 65536 "$tmp/huge_segment.elf"

# ---- one bad image among several guests: nothing runs ----
run "third of four guests bad: nothing runs" 126 "^mini-kvm: $tmp/empty.bin: image is empty$" -- \
	hello hello "$tmp/empty.bin" hello
no_stdout "  ... and no guest printed"
run "a bad ELF last of four guests: nothing runs" 126 "^mini-kvm: $tmp/overlap.elf: ELF segments at" -- \
	hello counter hello "$tmp/overlap.elf"
no_stdout "  ... and no guest printed"

finish
