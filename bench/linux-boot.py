#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/linux-boot.py: Debian's kernel with guests/linux's initramfs, from
the launch to the initramfs's first line and to the end of the process
after `poweroff -f` (typed half a second after that line; -f skips init's
shutdown pauses), under mini-kvm and under QEMU (-M pc, and -M microvm
where it boots the same kernel), on the same KVM, interleaved round by
round. Prints the medians (min-max) and mini-kvm's ratio to each. Run it
where the KVM runs Linux (make bench-linux picks the helper VM if needed).

usage: bench/linux-boot.py KERNEL INITRD [ROUNDS]"""
import os
import select
import statistics
import subprocess
import sys
import time

FIRST_LINE = b"mini-kvm initramfs:"
APPEND = "console=ttyS0 reboot=k,cold,panic_warm panic=-1 pci=off quiet"


def commands(kernel, initrd):
    qemu = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "256",
            "-kernel", kernel, "-initrd", initrd, "-display", "none",
            "-monitor", "none", "-serial", "stdio", "-no-reboot"]
    return {
        "mini-kvm": ["./mini-kvm", "--timeout=120", f"--initrd={initrd}",
                     f"--append={APPEND}", kernel],
        "qemu -M pc": qemu + ["-M", "pc", "-append", APPEND],
        "qemu -M microvm": qemu + ["-M", "microvm", "-append", APPEND],
    }


def one_run(argv, limit=120):
    """Seconds to the first line and to the end, or None if it did not boot.
    poweroff is typed once the first line is out: input sent earlier may
    meet a UART the kernel has not set up yet (QEMU's loses it)."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    first, seen = None, b""
    while time.monotonic() - start < limit:
        ready, _, _ = select.select([p.stdout], [], [], 1)
        chunk = os.read(p.stdout.fileno(), 4096) if ready else None
        if chunk == b"":
            break
        seen = (seen + (chunk or b""))[-4096:]
        if first is None and FIRST_LINE in seen:
            first = time.monotonic() - start
            time.sleep(0.5)  # the shell's prompt; the same for every VMM
            p.stdin.write(b"poweroff -f\n")
            p.stdin.flush()
    try:
        p.wait(timeout=max(1, limit - (time.monotonic() - start)))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None
    end = time.monotonic() - start
    return (first, end) if first is not None and p.returncode == 0 else None


def summary(xs):
    return f"{statistics.median(xs):6.2f} ({min(xs):.2f}-{max(xs):.2f})"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    kernel, initrd = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    cmds = commands(kernel, initrd)
    runs = {name: [] for name in cmds}
    for _ in range(rounds):
        for name, argv in cmds.items():
            if runs[name] is not None:
                r = one_run(argv)
                runs[name] = runs[name] + [r] if r else None
    print(f"# Linux boot, {rounds} interleaved rounds: seconds, median (min-max)")
    print(f"{'VMM':18} {'first line':>22} {'poweroff done':>22}")
    for name, rs in runs.items():
        if not rs:
            print(f"{name:18} did not boot to the initramfs and power off")
            continue
        print(f"{name:18} {summary([r[0] for r in rs]):>22} {summary([r[1] for r in rs]):>22}")
    mk = runs["mini-kvm"]
    for name, rs in runs.items():
        if name != "mini-kvm" and rs and mk:
            ratio = [a[1] / b[1] for a, b in zip(mk, rs)]
            print(f"mini-kvm / {name}: {statistics.median(ratio):.2f}x to the end "
                  f"(per-round ratios {min(ratio):.2f}-{max(ratio):.2f})")


if __name__ == "__main__":
    main()
