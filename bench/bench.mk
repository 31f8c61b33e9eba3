# SPDX-License-Identifier: MIT
# Benchmarks (included by the top Makefile): `make bench` builds what it
# needs and runs bench/run.sh, which prints a table and writes it as
# Markdown to bench/results/DATE.md. See docs/bench.md.
#
#   make bench                 natively where build/kvm-probe finds a usable
#                              KVM, else inside the helper VM (ci/nested-kvm)
#   make bench NESTED=1        always in the helper VM; NESTED=0: never
#   make bench BENCH_QUICK=1   fewer rounds, no `make run_tests` timing
#   make bench-linux           only the Linux boot against QEMU (also part of make bench)

BENCH_DIR := $(BUILD)/bench
BENCH_GUESTS := $(patsubst bench/guests/%.S,$(BENCH_DIR)/guests/%.bin,$(wildcard bench/guests/*.S))
BENCH_BINS := $(BENCH_DIR)/floor $(BENCH_DIR)/floor-static $(BENCH_DIR)/launch \
	$(BENCH_DIR)/empty $(BENCH_DIR)/phases $(BENCH_DIR)/mini-kvm-dynamic $(BENCH_DIR)/cpuloop

.PHONY: bench-build
bench-build: all $(BENCH_BINS) $(BENCH_GUESTS)

bench: bench-build
	@bench/run.sh
	@$(MAKE) -s bench-linux
	@$(MAKE) -s bench-kut

# The raw-KVM floor, dynamic like mini-kvm-dynamic, and static like ./mini-kvm.
$(BENCH_DIR)/floor: $(BUILD)/bench/floor.o
	$(CC) $(LDFLAGS) -o $@ $^

$(BENCH_DIR)/floor-static: $(BUILD)/bench/floor.o
	$(CC) $(LDFLAGS) -static -o $@ $^

# Static and small: a child's peak RSS counts what it had before exec.
$(BENCH_DIR)/launch: $(BUILD)/bench/launch.o
	$(CC) $(LDFLAGS) -static -o $@ $^

$(BENCH_DIR)/empty: $(BUILD)/bench/empty.o
	$(CC) $(LDFLAGS) -static -o $@ $^

$(BENCH_DIR)/phases: $(BUILD)/bench/phases.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The same command linked dynamically (./mini-kvm is static): what the
# shared libc and the dynamic loader cost. Its objects: those of ./mini-kvm.
BENCH_MINI_KVM_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/mini-kvm*.c))
$(BENCH_DIR)/mini-kvm-dynamic: $(BENCH_MINI_KVM_OBJS) $(BUILD)/builtin_guests.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Bench guests: real-mode flat images, built like guests/real/*.S.
$(BENCH_DIR)/guests/%.bin: bench/guests/%.S include/mini-kvm/abi.h
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c -o $(BENCH_DIR)/guests/$*.o $<
	$(GUEST_LD) -Ttext=0 -e 0 --oformat=binary -o $@ $(BENCH_DIR)/guests/$*.o

$(BENCH_DIR)/cpuloop: $(BUILD)/bench/cpuloop.o
	$(CC) $(LDFLAGS) -static -o $@ $^

# Linux: mini-kvm against QEMU -M pc and -M microvm (bench/linux-boot.py),
# in the helper VM where this machine's KVM cannot run Linux.
LINUX_BENCH_ROUNDS ?= 5
.PHONY: bench-linux
bench-linux: mini-kvm $(BUILD)/kvm-probe
	@kdir=$$(ci/nested-kvm.d/prepare | sed -n 1p) && \
	initrd=$(BUILD)/linux/initramfs.cpio && guests/linux/mkinitramfs.sh $$initrd && \
	if $(BUILD)/kvm-probe >/dev/null 2>&1; then run=; else run="ci/nested-kvm --mem=2G"; fi && \
	$$run bench/linux-boot.py $$kdir/vmlinuz $$initrd $(LINUX_BENCH_ROUNDS)

# kvm-unit-tests' whole list (KUT_TESTS, KUT_ARCHES to narrow it) under
# mini-kvm and then QEMU, back to back in one helper-VM boot: both verdicts
# side by side, and the wall-time ratio. Needs KUT_SRC; skips without it.
.PHONY: bench-kut
bench-kut: mini-kvm $(BUILD)/kvm-probe $(BUILD)/kut-qemu
	@if [ -z "$(KUT_SRC)" ]; then echo "bench-kut: skipped: KUT_SRC is not set"; \
	else KUT_SRC='$(KUT_SRC)' kvm-unit-tests/run --compare; fi
