# SPDX-License-Identifier: MIT
#
# The 1K OS (guests/os1k): a make fragment for the top Makefile, which
# includes it with BUILD set. Also works alone, from the repository root:
#	make -f guests/os1k/os1k.mk build/guests/os1k.elf
#
# The ring-3 programs are linked for USER_BASE, flattened to user.bin and
# embedded in the kernel by user_image.S.

BUILD ?= build

OS1K_SRC := guests/os1k
OS1K_OUT := $(BUILD)/guests/os1k
OS1K_ELF := $(BUILD)/guests/os1k.elf

OS1K_CC ?= gcc
OS1K_LD ?= ld
OS1K_OBJCOPY ?= objcopy
OS1K_STRIP ?= strip
# Guest rules (shared/DESIGN.md): freestanding i386, no SSE, no libgcc.
OS1K_CFLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -mgeneral-regs-only -nostdlib -O2 -g -Wall -Wextra \
	-fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
	-Iinclude -I$(OS1K_SRC)

OS1K_LDFLAGS := -m elf_i386 -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments

OS1K_KERNEL_OBJS := $(addprefix $(OS1K_OUT)/kernel/, boot.o trap_entry.o \
	main.o console.o trap.o memory.o proc.o syscall.o fmt.o user_image.o)
OS1K_USER_OBJS := $(addprefix $(OS1K_OUT)/user/, crt0.o ulib.o shell.o \
	programs.o fmt.o)
OS1K_HEADERS := $(wildcard $(OS1K_SRC)/*.h) include/mini-kvm/abi.h

# The command embeds a copy without symbols and debug information (two
# thirds of the ELF, and all of it would be resident in every mini-kvm
# process); gdb reads them from $(OS1K_ELF).
GUEST_IMAGES += $(BUILD)/guests/builtin/os1k.elf

OS1K_SAVED_GOAL := $(.DEFAULT_GOAL)

$(OS1K_ELF): $(OS1K_KERNEL_OBJS) $(OS1K_SRC)/kernel.ld
	$(OS1K_LD) $(OS1K_LDFLAGS) -T $(OS1K_SRC)/kernel.ld \
		-o $@ $(OS1K_KERNEL_OBJS)

$(BUILD)/guests/builtin/os1k.elf: $(OS1K_ELF)
	@mkdir -p $(@D)
	$(OS1K_STRIP) -o $@ $<

$(OS1K_OUT)/user.elf: $(OS1K_USER_OBJS) $(OS1K_SRC)/user.ld
	$(OS1K_LD) $(OS1K_LDFLAGS) -T $(OS1K_SRC)/user.ld \
		-o $@ $(OS1K_USER_OBJS)

$(OS1K_OUT)/user.bin: $(OS1K_OUT)/user.elf
	$(OS1K_OBJCOPY) -O binary $< $@

$(OS1K_OUT)/kernel/user_image.o: $(OS1K_SRC)/user_image.S $(OS1K_OUT)/user.bin
	@mkdir -p $(@D)
	$(OS1K_CC) $(OS1K_CFLAGS) -DUSER_BIN='"$(OS1K_OUT)/user.bin"' -c -o $@ $<

# The flags live here: a change to them rebuilds the OS.
$(OS1K_KERNEL_OBJS) $(OS1K_USER_OBJS): $(OS1K_SRC)/os1k.mk

$(OS1K_OUT)/kernel/%.o: $(OS1K_SRC)/%.c $(OS1K_HEADERS)
	@mkdir -p $(@D)
	$(OS1K_CC) $(OS1K_CFLAGS) -c -o $@ $<

$(OS1K_OUT)/kernel/%.o: $(OS1K_SRC)/%.S
	@mkdir -p $(@D)
	$(OS1K_CC) $(OS1K_CFLAGS) -c -o $@ $<

$(OS1K_OUT)/user/%.o: $(OS1K_SRC)/%.c $(OS1K_HEADERS)
	@mkdir -p $(@D)
	$(OS1K_CC) $(OS1K_CFLAGS) -c -o $@ $<

$(OS1K_OUT)/user/%.o: $(OS1K_SRC)/%.S
	@mkdir -p $(@D)
	$(OS1K_CC) $(OS1K_CFLAGS) -c -o $@ $<

# Included: leave the top Makefile's default goal alone. Alone: build the OS.
ifeq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL := $(OS1K_ELF)
else
.DEFAULT_GOAL := $(OS1K_SAVED_GOAL)
endif
