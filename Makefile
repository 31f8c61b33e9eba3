# SPDX-License-Identifier: MIT
# mini-kvm: `make` builds everything, `make run_tests` builds and runs the
# suite (natively, or inside the nested-KVM helper VM where there is no
# usable /dev/kvm), `make install INSTALL_PATH=DIR`, `make bench`, `make clean`.

CC ?= gcc
BUILD := build
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -MMD -MP
# A function that passes its arguments on to vprintf() and friends without a
# format attribute leaves its callers unchecked: gcc names every such one.
CFLAGS += -Wsuggest-attribute=format
# Hardening: stack canaries, bounds-checked libc calls (which need an -O
# level: glibc refuses _FORTIFY_SOURCE without one), position-independent
# code so that the command's addresses are randomised even when it is
# linked statically, and a read-only GOT after start-up.
CFLAGS += -fPIE -fstack-protector-strong
FORTIFY := $(if $(filter -O -O1 -O2 -O3 -Os -Og -Ofast,$(CFLAGS)),-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
CFLAGS += $(FORTIFY)
LDFLAGS += -Wl,-z,relro,-z,now
LDLIBS += -lpthread -lrt

# Guest code: freestanding, no SSE (see DESIGN.md), linked as flat binaries.
GUEST_CFLAGS := -m32 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-mgeneral-regs-only -nostdlib -Iinclude -Wall -Wextra -Werror
GUEST_LD := ld -m elf_i386

LIB := $(BUILD)/libminikvm.a
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard lib/*.c lib/boot/*.c lib/devices/*.c))

REAL_GUESTS := $(basename $(notdir $(wildcard guests/real/*.S)))
REAL_IMAGES := $(REAL_GUESTS:%=$(BUILD)/guests/%.bin)
GUEST_IMAGES := $(REAL_IMAGES)
-include guests/os1k/os1k.mk

SELFTESTS := $(basename $(notdir $(wildcard selftests/*.c)))
SELFTEST_BINS := $(SELFTESTS:%=selftests/%)
SELFTEST_SCRIPTS := $(notdir $(wildcard selftests/*_test.sh selftests/nested_kvm_helper.sh selftests/os1k_qemu_diff.sh))
# Not tests: what the scripts source, installed beside them.
SELFTEST_FILES := image_builders.sh tap.sh ksft-headers.sh gdb.sh

TOOLS := mini-kvm $(BUILD)/kvm-probe $(BUILD)/kut-qemu

.PHONY: all run_tests install bench clean check-format run linux
all: $(TOOLS) $(SELFTEST_BINS) $(GUEST_IMAGES) $(REAL_GUESTS:%=$(BUILD)/guests/%.elf)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# Real-mode guests: 16-bit code at offset 0 of a flat image.
$(BUILD)/guests/%.bin: guests/real/%.S guests/real/lineout.inc include/mini-kvm/abi.h
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $(BUILD)/guests/$*.o $<
	$(GUEST_LD) -Ttext=0 -e 0 --oformat=binary -o $@ $(BUILD)/guests/$*.o

# The same, as an ELF with its symbols, for gdb (docs/mini-kvm.md, --gdb).
$(BUILD)/guests/%.elf: $(BUILD)/guests/%.bin
	$(GUEST_LD) -Ttext=0 -e 0 -o $@ $(BUILD)/guests/$*.o

# The built-in guests, embedded in the command with .incbin.
$(BUILD)/builtin_guests.S: $(GUEST_IMAGES) Makefile
	@mkdir -p $(dir $@)
	@{ for img in $(GUEST_IMAGES); do \
		n=$$(basename $${img%.*}); \
		printf '.section .rodata\n.globl guest_%s_start, guest_%s_end\n.balign 16\nguest_%s_start:\n.incbin "%s"\nguest_%s_end:\n' \
			$$n $$n $$n $$img $$n; \
	done; printf '.section .note.GNU-stack,"",@progbits\n'; } > $@

$(BUILD)/builtin_guests.o: $(BUILD)/builtin_guests.S
	$(CC) -c -o $@ $<

# The command is linked -static where the C library allows it: no dynamic
# loader makes its exec several times cheaper and keeps its peak RSS under
# 1 MiB (docs/bench.md). -static-pie where the toolchain has it, so that
# ASLR still applies; `make STATIC=` links it dynamically.
STATIC ?= $(shell for f in -static-pie -static; do \
	printf 'int main(void){return 0;}' | \
	$(CC) -fPIE $$f -x c -o /dev/null - 2>/dev/null && { echo $$f; break; }; done)
mini-kvm: $(BUILD)/tools/mini-kvm.o $(BUILD)/tools/mini-kvm-console.o $(BUILD)/tools/mini-kvm-machine.o \
	$(BUILD)/tools/mini-kvm-trace.o $(BUILD)/tools/mini-kvm-gdb.o \
	$(BUILD)/tools/mini-kvm-gdb-packet.o $(BUILD)/tools/mini-kvm-seccomp.o \
	$(BUILD)/builtin_guests.o $(LIB)
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(LDLIBS)

# The seccomp filter's SIGSYS handler names a forbidden call from this
# table of every x86-64 system call, made from the kernel's headers.
$(BUILD)/syscall_names.h: Makefile
	@mkdir -p $(dir $@)
	printf '#include <asm/unistd_64.h>\n' | $(CC) -E -dM - | \
		sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\t[__NR_\1] = "\1",/p' >$@
$(BUILD)/tools/mini-kvm-seccomp.o: $(BUILD)/syscall_names.h
$(BUILD)/tools/mini-kvm-seccomp.o: CFLAGS += -I$(BUILD)

$(BUILD)/kvm-probe: $(BUILD)/tools/kvm-probe.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# tools/kut-qemu runs it: static too, since the runner starts it 7 times a test.
$(BUILD)/kut-qemu: $(BUILD)/tools/kut-qemu.o
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^

# Selftests: the kernel's kselftest harness, fetched at build time.
# KSFT_DIR passed on: make 4.3 gives $(shell) no command-line variables.
KSFT_INC = $(shell KSFT_DIR='$(KSFT_DIR)' selftests/ksft-headers.sh || echo KSFT_HEADERS_MISSING)
selftests/%: selftests/%.c selftests/test_util.h $(LIB) $(BUILD)/builtin_guests.o
	@case "$(KSFT_INC)" in *KSFT_HEADERS_MISSING*) \
		echo "error: no kselftest headers; set KSFT_DIR=<dir or kernel tree>" >&2; exit 1;; esac
	$(CC) $(CFLAGS) -Wno-sign-compare -isystem $(KSFT_INC) -Iselftests -o $@ $< $(SELFTEST_OBJS) \
		$(BUILD)/builtin_guests.o $(LIB) $(LDLIBS)

# The seccomp selftest installs the command's filter in programs of its own.
selftests/seccomp: $(BUILD)/tools/mini-kvm-seccomp.o
selftests/seccomp: SELFTEST_OBJS = $(BUILD)/tools/mini-kvm-seccomp.o
selftests/seccomp: CFLAGS += -Itools

# guests_golden embeds the goldens with .incbin, which -MMD does not see.
selftests/guests_golden: $(wildcard guests/real/*.golden)

# NESTED=1 forces the helper VM, NESTED=0 never uses it; unset: automatic.
# gdb_test drives Debian's gdb: installed here when missing (as root), else it skips.
run_tests: all
	@ci/apt-need gdb gdb || true
	@selftests/run_tests.sh $(SELFTESTS) $(SELFTEST_SCRIPTS)

install: all
	@test -n "$(INSTALL_PATH)" || { echo "usage: make install INSTALL_PATH=DIR" >&2; exit 2; }
	mkdir -p $(INSTALL_PATH)/mini-kvm
	cp $(SELFTEST_BINS) $(SELFTEST_SCRIPTS:%=selftests/%) $(SELFTEST_FILES:%=selftests/%) \
		selftests/settings mini-kvm tools/trace-svg $(BUILD)/guests/segments.elf \
		$(BUILD)/guests/os1k.elf $(INSTALL_PATH)/mini-kvm/
	printf 'mini-kvm:%s\n' $(SELFTESTS) $(SELFTEST_SCRIPTS) > $(INSTALL_PATH)/kselftest-list.txt

run: mini-kvm
	@tools/run-default.sh

# Debian's kernel with guests/linux's busybox initramfs, to a shell (docs/linux.md).
.PHONY: linux
linux: mini-kvm $(BUILD)/kvm-probe
	@tools/run-linux.sh $(LINUX_ARGS)

# KVM's own test suite, built from KUT_SRC (a tree or its tarball) and run by
# its own run_tests.sh through tools/kut-qemu, natively or in the helper VM;
# judged against kvm-unit-tests/expected. Without KUT_SRC it skips.
.PHONY: kvm-unit-tests
kvm-unit-tests: mini-kvm $(BUILD)/kvm-probe $(BUILD)/kut-qemu
	@KUT_SRC='$(KUT_SRC)' kvm-unit-tests/run

# The library, its headers and the command follow .clang-format.
check-format:
	@for f in lib/*.c lib/boot/*.c lib/devices/*.c include/mini-kvm/*.h tools/*.c; do \
		clang-format "$$f" | cmp -s "$$f" - || { echo "not formatted: $$f"; bad=1; }; \
	done; exit $${bad:-0}

# shellcheck on every shell script, the clang-format check, and the example
# workflow against GitHub's schema (ci/lint): every check runs, any failure fails.
.PHONY: lint
lint:
	@st=0; $(MAKE) -s check-format || st=1; ci/lint || st=1; exit $$st

clean:
	rm -rf $(BUILD) mini-kvm $(SELFTEST_BINS)

# Robustness tooling (sanitizers, fuzzers, static analysis) and benchmarks.
-include fuzz/fuzz.mk
-include bench/bench.mk

-include $(shell find $(BUILD) selftests -name '*.d' 2>/dev/null)

# The 1K OS selftest embeds the golden transcripts.
selftests/os1k: $(wildcard guests/os1k/tests/*.in guests/os1k/tests/*.out)
