#!/bin/sh
# SPDX-License-Identifier: MIT
# guests/linux/mkinitramfs.sh OUT: the initramfs of `make linux`, an
# uncompressed newc cpio (nothing for the kernel to unpack but the archive)
# holding Debian's busybox-static and guests/linux/init.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
busybox=/bin/busybox
if ! "$busybox" cpio --help 2>&1 | grep -q -- '-o'; then
	echo "mkinitramfs: $busybox with cpio -o is needed: apt-get install busybox-static" >&2
	exit 1
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/dev"
cp "$busybox" "$stage/bin/busybox"
cp "$here/init" "$stage/init"
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | "$busybox" cpio -o -H newc 2>/dev/null) >"$out.tmp"
mv "$out.tmp" "$out"
