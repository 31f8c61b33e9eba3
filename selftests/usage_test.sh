#!/bin/sh
# SPDX-License-Identifier: MIT
# usage_test: what the mini-kvm command answers before it opens /dev/kvm:
# --help, --version and --list on stdout, and the bad command lines
# (unknown options, an option without its value, bad --mem, --timeout and
# --mode values, five guests), each refused with exit 2, one line naming
# the problem and "Try 'mini-kvm --help'". It needs no KVM at all (nor
# /dev/null), so run_tests.sh runs it on the host, outside the helper VM;
# it skips (exit 4) only when there is no mini-kvm command. The command
# opens /dev/kvm before it reads any image, so the image cases (126, and an
# ELF with --mode=real) are in cli_test.sh and bad_input_test.sh, which
# need a KVM. The table of all three is in docs/robustness.md. TAP; exits
# 0 pass, 1 fail, 4 skip.
set -u -f
# The command: $MINI_KVM, else beside selftests/ (the tree, build/san/),
# else beside this script (make install).
here=$(cd "$(dirname "$0")" && pwd)
mkvm=${MINI_KVM:-}
for c in "$here/../mini-kvm" "$here/mini-kvm"; do
	[ -z "$mkvm" ] && [ -f "$c" ] && [ -x "$c" ] && mkvm=$c
done
echo "TAP version 13"
if [ -z "$mkvm" ] || [ ! -x "$mkvm" ]; then
	echo "1..0 # SKIP no mini-kvm command beside $here (run make, or set MINI_KVM)"
	exit 4
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/in" # stdin: not /dev/null, which a bare tmpfs on /dev lacks too
nl='
'

# run NAME RC STDERR [STDOUT...] -- ARGS...: mini-kvm ARGS (stdin empty,
# at most 30 s) must exit RC with STDERR (grep -E) on the first line of
# stderr, and each STDOUT (grep -E) on some line of stdout. Exit 0: stderr
# is empty. Exit 2, a usage error: two lines, the second pointing to
# --help. Any other exit: exactly one line.
n=0 failed=0
run() {
	name=$1 want_rc=$2 err_re=$3 out_res='' why=''
	shift 3
	while [ "$1" != -- ]; do out_res="$out_res$1$nl"; shift; done
	shift
	timeout -k 5 30 "$mkvm" "$@" >"$tmp/out" 2>"$tmp/err" <"$tmp/in"
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
	n=$((n + 1))
	if [ -z "$why" ]; then
		echo "ok $n $name${first:+ # $first}"
	else
		failed=1
		echo "not ok $n $name"
		printf '%s' "$why" | sed 's/^/# /'
		head -c 600 "$tmp/err" | sed 's/^/# stderr: /'
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
run "--timeout=1e9 (too long)" 2 "^mini-kvm: --timeout=1e9: too long" -- --timeout=1e9 hello
run "--mode=long" 2 "^mini-kvm: --mode=long: must be 'real' or 'protected'" -- --mode=long hello
run five_guests 2 "^mini-kvm: 5 guests: at most 4 run at once" -- hello hello hello hello hello

echo "1..$n"
exit $failed
