#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""kut-qemu.py: the translation behind tools/kut-qemu, mini-kvm's
QEMU-compatible front door for kvm-unit-tests.

kvm-unit-tests' runner (run_tests.sh, x86/run) builds a QEMU command line
from $QEMU. With QEMU=tools/kut-qemu it runs mini-kvm instead, and the
suite's own runner judges the result. The options mini-kvm can honour are
turned into mini-kvm's; every other one is refused with one line naming it,
which the runner, probing with its dummy kernel, reports as the test's SKIP
reason. Nothing is ignored silently. -cpu is mini-kvm's --cpu (the same
syntax, judged by mini-kvm), -machine pit=off its --no-pit.
KUT_QEMU_PRINT=1 prints the mini-kvm command line instead of running it.
tools/kut-qemu answers the runner's questions (-h, -device '?') itself.
"""
import os
import re
import shlex
import subprocess
import sys

MINI_KVM = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "mini-kvm")
DEVICES = {  # QEMU's name: mini-kvm's (tools/kut-qemu lists the same)
    "pc-testdev": "pc-testdev",
    "isa-debug-exit": "debug-exit",
}
DEFAULT_MEM_MIB = 128  # QEMU's default


class Refused(Exception):
    pass


def refuse(option, why):
    raise Refused(f"kut-qemu: {option}: {why}")


def parse_mem(value):
    m = re.fullmatch(r"(?:size=)?(\d+)([MGmg]?)[bB]?", value)
    if not m:
        refuse(f"-m {value}", "not a size in MiB or GiB")
    mib = int(m.group(1)) * (1024 if m.group(2).upper() == "G" else 1)
    if mib > 3072:
        refuse(f"-m {value}", "mini-kvm gives a guest at most 3 GiB (RAM lies below 4 GiB)")
    return mib


def parse_smp(value):
    m = re.fullmatch(r"(?:cpus=)?(\d+)", value)
    if not m:
        refuse(f"-smp {value}", "only a number of CPUs is supported")
    return int(m.group(1))


def parse_device(value, devices):
    name, _, props = value.partition(",")
    if name not in DEVICES:
        refuse(f"-device {value}", f"mini-kvm has no such device (it has {', '.join(DEVICES)})")
    if name == "isa-debug-exit" and props not in ("", "iobase=0xf4,iosize=0x4", "iobase=0xf4"):
        refuse(f"-device {value}", "mini-kvm's debug-exit port is at 0xf4, 4 bytes wide")
    elif name != "isa-debug-exit" and props:
        refuse(f"-device {value}", "the device takes no properties here")
    devices.append(DEVICES[name])


# Options that only say what mini-kvm does anyway, with their values.
ACCEPTED = {
    "-nodefaults": None, "--no-reboot": None, "-no-reboot": None, "-enable-kvm": None,
    "-display": {"none"}, "-serial": {"stdio"}, "-accel": {"kvm"},
    # mini-kvm's PC drops lost PIT ticks (lib/devices/pc_firmware.c).
    "-global": {"kvm-pit.lost_tick_policy=discard"},
}
# -machine properties, and the mini-kvm options they mean.
MACHINE = {"accel=kvm": [], "pit=on": [], "pit=off": ["--no-pit"]}


def parse_machine(value, extra):
    for prop in value.split(","):
        if prop not in MACHINE:
            refuse(f"-machine {value}", f"mini-kvm has no machine property '{prop}' "
                   f"(it accepts {', '.join(MACHINE)})")
        extra += MACHINE[prop]


def check_cpu(spec):
    """mini-kvm's own verdict on a -cpu SPEC (same syntax), before any kernel."""
    check = subprocess.run([MINI_KVM, f"--cpu={spec}", "--version"], capture_output=True,
                           text=True)
    if check.returncode:
        lines = check.stderr.splitlines() or ["refused"]
        refuse(f"-cpu {spec}", lines[0].removeprefix(f"mini-kvm: --cpu={spec}: "))


def translate(argv):
    """The mini-kvm command line for a QEMU one."""
    mem, smp, append, initrd, kernel, devices = DEFAULT_MEM_MIB, 1, None, None, None, []
    cpu, extra = None, []
    args = iter(argv)
    for opt in args:
        if opt in ACCEPTED and ACCEPTED[opt] is None:
            continue
        value = next(args, None)
        if value is None:
            refuse(opt, "needs a value")
        if opt in ACCEPTED:
            if value not in ACCEPTED[opt]:
                refuse(f"{opt} {value}", "not supported by mini-kvm (it accepts "
                       + ", ".join(sorted(ACCEPTED[opt])) + ")")
        elif opt == "-m":
            mem = parse_mem(value)
        elif opt == "-smp":
            smp = parse_smp(value)
        elif opt == "-append":
            append = value
        elif opt == "-initrd":
            initrd = value
        elif opt == "-kernel":
            kernel = value
        elif opt == "-device":
            parse_device(value, devices)
        elif opt == "-machine":
            parse_machine(value, extra)
        elif opt == "-cpu":
            # QEMU's own syntax: mini-kvm's --cpu takes it as it is.
            cpu = value
        else:
            refuse(f"{opt} {value}", "an option mini-kvm does not support")
    if kernel is None:
        refuse("-kernel", "no kernel given")
    if not os.path.isfile(kernel):
        # The runner's probe: every option is judged first. With a real
        # kernel mini-kvm refuses a bad --cpu itself, the same way.
        if cpu is not None:
            check_cpu(cpu)
        raise Refused(f"kut-qemu: could not load kernel '{kernel}': no such file")
    cmd = [MINI_KVM, f"--mem={mem}M", f"--smp={smp}"]
    if devices:
        cmd.append("--device=" + ",".join(devices))
    if cpu is not None:
        cmd.append(f"--cpu={cpu}")
    cmd += extra
    if append is not None:
        cmd.append(f"--append={append}")
    if initrd is not None:
        cmd.append(f"--initrd={initrd}")
    return cmd + ["--", kernel]


def main(argv):
    try:
        cmd = translate(argv)
    except Refused as e:
        print(e, file=sys.stderr)
        return 1
    if os.environ.get("KUT_QEMU_PRINT") == "1":
        print(shlex.join(cmd))
        return 0
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
