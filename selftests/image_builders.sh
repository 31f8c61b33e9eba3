# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# image_builders.sh: guest images byte by byte, for usage_test.sh and
# bad_input_test.sh, which source it (it is no test itself; make install
# copies it beside them). No process per byte (the helper VM pays dearly
# for forks) and no /dev/zero (usage_test.sh runs with a bare /dev): each
# function appends octal escapes to $esc, and flush prints them.
esc=
byte() { esc="$esc\\$(($1 >> 6 & 7))$(($1 >> 3 & 7))$(($1 & 7))"; }
hex() { for b in "$@"; do byte $((0x$b)); done; } # hex 66 bb 20 ...
le16() { byte $(($1 & 255)); byte $(($1 >> 8 & 255)); }
le32() { le16 $(($1 & 65535)); le16 $(($1 >> 16 & 65535)); }
z() { i=0; while [ $i -lt "$1" ]; do esc="$esc\\000"; i=$((i + 1)); done; }
# shellcheck disable=SC2059 # $esc is a format: octal escapes
flush() { printf "$esc"; esc=; }

# ELF32 images: a valid baseline (one PT_LOAD of 12 bytes at 1 MiB, entered
# there: HC_EXIT 0), and variants that each break one thing the loader checks.
# ehdr CLASS MACHINE TYPE ENTRY PHOFF PHENTSIZE PHNUM
ehdr() {
	hex 7f 45 4c 46; byte "$1"; hex 01 01; z 9
	le16 "$3"; le16 "$2"; le32 1; le32 "$4"; le32 "$5"; le32 0; le32 0
	le16 52; le16 "$6"; le16 "$7"; le16 0; le16 0; le16 0
}
# phdr OFFSET PADDR FILESZ MEMSZ (PT_LOAD)
phdr() { le32 1; le32 "$1"; le32 "$2"; le32 "$2"; le32 "$3"; le32 "$4"; le32 7; le32 4096; }
code() { hex 31 db b0 00 66 ba 00 05 ee f4 f4 f4; } # xor %ebx,%ebx; HC_EXIT
mb=1048576
elf() { # FILE CLASS MACHINE TYPE ENTRY PHOFF PHENTSIZE: one segment
	f=$1; shift
	{ ehdr "$@" 1; phdr 84 $mb 12 12; code; flush; } >"$f"
}
