# SPDX-License-Identifier: MIT
# Robustness tooling, included by the top Makefile:
#   make check-sanitize  lib, the command and the selftests built with
#                        -fsanitize=address,undefined into build/san/, and
#                        the suite run from there (in the helper VM where
#                        this machine's KVM cannot run it)
#   make fuzz            the libFuzzer targets (image loader, bzImage, hypercall
#                        decoding, gdb's packets) for FUZZ_TIME seconds each, then the
#                        guest-code fuzzer (GUEST_FUZZ_RUNS random guests)
#   make stress          a million hypercalls through one guest
#   make analyze         gcc -fanalyzer over lib/, warnings are errors
# See docs/robustness.md.

.PHONY: check-sanitize fuzz fuzz-build stress analyze

# ---- sanitizers ----
SAN := $(BUILD)/san
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
SAN_LIB := $(SAN)/libminikvm.a
SAN_LIB_OBJS := $(patsubst %.c,$(SAN)/%.o,$(wildcard lib/*.c lib/boot/*.c lib/devices/*.c))
# The KVM-using shell tests find ./mini-kvm next to their own directory.
SAN_SCRIPTS := $(notdir $(wildcard selftests/*_test.sh))
# selftests/seccomp is not among them: the sanitizer build runs without the
# filter (tools/mini-kvm.c, lock_down()), and ASan's own calls would trip it.
SAN_SELFTESTS := $(filter-out seccomp,$(SELFTESTS))
SAN_BINS := $(SAN)/mini-kvm $(SAN)/kvm-probe $(SAN_SELFTESTS:%=$(SAN)/selftests/%) \
	$(SAN_SCRIPTS:%=$(SAN)/selftests/%) $(SELFTEST_FILES:%=$(SAN)/selftests/%) \
	$(SAN)/selftests/settings

$(SAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(SAN_LIB): $(SAN_LIB_OBJS)
	$(AR) rcs $@ $^

# The command: tools/mini-kvm*.c, as the top Makefile links it.
SAN_CMD_OBJS := $(patsubst %.c,$(SAN)/%.o,$(wildcard tools/mini-kvm*.c))
$(SAN)/mini-kvm: $(SAN_CMD_OBJS) $(BUILD)/builtin_guests.o $(SAN_LIB)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(SAN)/tools/mini-kvm-seccomp.o: $(BUILD)/syscall_names.h
$(SAN)/tools/mini-kvm-seccomp.o: CFLAGS += -I$(BUILD)

$(SAN)/kvm-probe: $(SAN)/tools/kvm-probe.o $(SAN_LIB)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(SAN)/selftests/%: selftests/%.c selftests/test_util.h $(SAN_LIB) $(BUILD)/builtin_guests.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Wno-sign-compare -isystem $(KSFT_INC) -Iselftests \
		-o $@ $< $(BUILD)/builtin_guests.o $(SAN_LIB) $(LDLIBS)

$(SAN)/selftests/%.sh: selftests/%.sh
	@mkdir -p $(dir $@)
	cp $< $@

$(SAN)/selftests/settings: selftests/settings
	@mkdir -p $(dir $@)
	cp $< $@

# The runner picks the tests' directory from MINI_KVM_SELFTESTS; the
# host-side tests (nested_kvm_helper.sh, os1k_qemu_diff.sh) drive QEMU,
# not our code, and are left out.
check-sanitize: all $(SAN_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	MINI_KVM_SELFTESTS=$(SAN)/selftests \
		selftests/run_tests.sh $(SAN_SELFTESTS) $(SAN_SCRIPTS)

# ---- fuzzers ----
FUZZ := $(BUILD)/fuzz
FUZZ_CC := clang
FUZZ_TIME ?= 30
GUEST_FUZZ_RUNS ?= 300
GUEST_FUZZ_SEED ?= 1
STRESS_CALLS ?= 1000000
FUZZ_FLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-std=gnu11 -Wall -Wextra -Werror -Wno-gnu-variable-sized-type-not-at-end \
	-D_GNU_SOURCE -Iinclude
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ)/%.o,$(wildcard lib/*.c lib/boot/*.c lib/devices/*.c))
FUZZERS := $(FUZZ)/fuzz_loader $(FUZZ)/fuzz_hypercall $(FUZZ)/fuzz_bzimage \
	$(FUZZ)/fuzz_gdb_packet

$(FUZZ)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ)/fuzz_loader: fuzz/fuzz_loader.c $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(FUZZ)/fuzz_bzimage: fuzz/fuzz_bzimage.c $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# The gdb stub's packet decoder and request parser: pure, no KVM.
$(FUZZ)/fuzz_gdb_packet: fuzz/fuzz_gdb_packet.c tools/mini-kvm-gdb-packet.c
	$(FUZZ_CC) $(FUZZ_FLAGS) -Itools -fsanitize=fuzzer -o $@ $^

# Every ioctl of the library goes through the fuzzer's fake kernel.
$(FUZZ)/fuzz_hypercall: fuzz/fuzz_hypercall.c $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -Wl,--wrap=ioctl -o $@ $^ $(LDLIBS)

$(FUZZ)/guest_fuzz: fuzz/guest_fuzz.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.a,$^) $(LDLIBS)

fuzz-build: $(FUZZERS) $(FUZZ)/guest_fuzz $(BUILD)/kvm-probe

# Each fuzzer grows its own copy of the seed corpus (fuzz/corpus/NAME stays
# as committed); crashes land in build/fuzz/ as crash-* files.
fuzz: fuzz-build
	@set -e; for f in loader hypercall bzimage gdb_packet; do \
		mkdir -p $(FUZZ)/corpus/$$f; \
		echo "# fuzz_$$f: $(FUZZ_TIME) s"; \
		$(FUZZ)/fuzz_$$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ)/ $(FUZZ)/corpus/$$f fuzz/corpus/$$f \
			> $(FUZZ)/fuzz_$$f.log 2>&1 || { tail -40 $(FUZZ)/fuzz_$$f.log; exit 1; }; \
		grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' \
			$(FUZZ)/fuzz_$$f.log | sed 's/^/#   /'; \
	done
	@fuzz/on-kvm.sh --real-mode $(FUZZ)/guest_fuzz --runs=$(GUEST_FUZZ_RUNS) --seed=$(GUEST_FUZZ_SEED)

stress: $(FUZZ)/guest_fuzz $(BUILD)/kvm-probe
	@fuzz/on-kvm.sh --real-mode $(FUZZ)/guest_fuzz --flood=$(STRESS_CALLS)

# ---- static analysis ----
analyze:
	@for f in lib/*.c lib/boot/*.c lib/devices/*.c; do \
		echo "  ANALYZE $$f"; \
		$(CC) $(CFLAGS) -fanalyzer -c -o /dev/null $$f || exit 1; \
	done
