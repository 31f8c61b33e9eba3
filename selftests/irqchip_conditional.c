// SPDX-License-Identifier: MIT
/*
 * irqchip_conditional: the library creates the in-kernel irqchip and PIT
 * only when asked. Without one, a guest's hlt comes back to the host as
 * KVM_EXIT_HLT, just past the guest's hlt, and the guest goes on when the
 * host runs it again. With one, a protected-mode guest programs the PIC
 * and the PIT, sleeps in hlt, and is woken through its own IDT, one timer
 * tick per hlt: at each tick it stops at an HC_SYNC stage, where the host
 * sees the count and that hlt never left the kernel. An IRQ line raised by
 * the host (vm_irq_line) reaches the guest the same way. These guests
 * need a KVM that runs protected mode, and its irqchip; creating one
 * after a vCPU is refused.
 */
#include "test_util.h"

#define LOAD_ADDR 0x1000
#define GDT_ADDR 0x500
#define IDT_ADDR 0x2000
#define TICKS_WANTED 5
#define TAG_IRQS 1
#define ABS(guest, label) XSTR(LOAD_ADDR) " + " #label " - " #guest "_start"

/* IDT entry vec: a 32-bit interrupt gate to the handler at address addr. */
#define SET_GATE(vec, addr)                                            \
	"	mov $(" addr "), %eax\n"                               \
	"	mov %ax, " XSTR(IDT_ADDR) " + " #vec " * 8\n"          \
	"	movw $0x08, " XSTR(IDT_ADDR) " + " #vec " * 8 + 2\n"   \
	"	movw $0x8e00, " XSTR(IDT_ADDR) " + " #vec " * 8 + 4\n" \
	"	shr $16, %eax\n"                                       \
	"	mov %ax, " XSTR(IDT_ADDR) " + " #vec " * 8 + 6\n"

/* The PIC pair: ICW1-4, IRQ0-7 at vector 0x20, IRQs in mask masked. */
#define PIC_INIT(mask)                                         \
	"	mov $0x11, %al\n out %al, $0x20\n out %al, $0xa0\n" \
	"	mov $0x20, %al\n out %al, $0x21\n"                  \
	"	mov $0x28, %al\n out %al, $0xa1\n"                  \
	"	mov $0x04, %al\n out %al, $0x21\n"                  \
	"	mov $0x02, %al\n out %al, $0xa1\n"                  \
	"	mov $0x01, %al\n out %al, $0x21\n out %al, $0xa1\n" \
	"	mov $" #mask ", %al\n out %al, $0x21\n"             \
	"	mov $0xff, %al\n out %al, $0xa1\n"

/* Count interrupts in the word at counter, acknowledge them, return. */
#define COUNTING_HANDLER(counter)                         \
	"	push %eax\n"                              \
	"	incl " counter "\n"                       \
	"	mov $0x20, %al\n out %al, $0x20\n" /* EOI */ \
	"	pop %eax\n"                               \
	"	iret\n"

/* hlt, then (when the host runs it again) HC_EXIT 7. */
GUEST_CODE(hlt_guest, ".code16",
	"	hlt\n"
	"	mov $7, %ebx\n"
	HC(HC_EXIT));

/*
 * sti; hlt sleeps until the next tick; the handler returns with IF clear
 * (it clears it in the EFLAGS that iret pops), so each hlt sees exactly
 * one tick, however late the host lets it run: stage n is tick n.
 */
GUEST_CODE(tick_guest, ".code32",
	"	mov $0x8000, %esp\n"
	SET_GATE(0x20, ABS(tick_guest, tick_handler))
	"	lidt " ABS(tick_guest, tick_idt) "\n"
	PIC_INIT(0xfe)
	/* PIT channel 0, mode 2, divisor 11932: about 100 Hz */
	"	mov $0x34, %al\n out %al, $0x43\n"
	"	mov $(11932 & 0xff), %al\n out %al, $0x40\n"
	"	mov $(11932 >> 8), %al\n out %al, $0x40\n"
	"1:	sti\n"
	"	hlt\n"
	"	mov " ABS(tick_guest, ticks) ", %ebx\n"
	HC(HC_SYNC)
	"	cmpl $" XSTR(TICKS_WANTED) ", " ABS(tick_guest, ticks) "\n"
	"	jb 1b\n"
	"	xor %ebx, %ebx\n"
	HC(HC_EXIT)
	"tick_handler:\n"
	"	andl $~0x200, 8(%esp)\n" /* EFLAGS.IF, under EIP and CS */
	COUNTING_HANDLER(ABS(tick_guest, ticks))
	"tick_idt: .word 256 * 8 - 1\n .long " XSTR(IDT_ADDR) "\n"
	"ticks: .long 0\n");

/*
 * IRQ1 unmasked, interrupts off; stage 1 tells the host it may raise the
 * line; then sti and hlt until the interrupt has been taken.
 */
GUEST_CODE(irq1_guest, ".code32",
	"	mov $0x8000, %esp\n"
	SET_GATE(0x21, ABS(irq1_guest, irq1_handler))
	"	lidt " ABS(irq1_guest, irq1_idt) "\n"
	PIC_INIT(0xfd)
	"	mov $1, %ebx\n"
	HC(HC_SYNC)
	"	sti\n"
	"1:	hlt\n"
	"	cmpl $0, " ABS(irq1_guest, irqs) "\n"
	"	je 1b\n"
	"	cli\n"
	"	mov $" XSTR(TAG_IRQS) ", %ebx\n"
	"	mov " ABS(irq1_guest, irqs) ", %ecx\n"
	HC(HC_REPORT)
	"	xor %ebx, %ebx\n"
	HC(HC_EXIT)
	"irq1_handler:\n"
	COUNTING_HANDLER(ABS(irq1_guest, irqs))
	"irq1_idt: .word 256 * 8 - 1\n .long " XSTR(IDT_ADDR) "\n"
	"irqs: .long 0\n");

/* A VM with the irqchip and PIT, running code protected-mode at LOAD_ADDR. */
static struct vcpu *irqchip_guest(const uint8_t *start, const uint8_t *end)
{
	struct guest_spec spec = {
		.mem_size = 1 << 20,
		.mode = GUEST_PROTECTED,
		.image = start,
		.len = end - start,
		.load_gpa = LOAD_ADDR,
		.irqchip = true,
	};
	struct vcpu *vcpu = vm_create_with_one_vcpu(&spec);

	vm_write_flat_gdt(vcpu->vm, GDT_ADDR);
	vcpu_load_gdt(vcpu, GDT_ADDR, 3 * 8 - 1);
	return vcpu;
}

static bool kernel_has_irqchip(struct vm *vm)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_PIC_MASTER };

	return __vm_ioctl(vm, KVM_GET_IRQCHIP, &chip) == 0;
}

TEST(without_irqchip_hlt_exits_to_host)
{
	struct vcpu *vcpu = test_real_mode_guest(64 << 10, 0, hlt_guest_start, hlt_guest_end);
	struct kvm_regs regs;

	EXPECT_FALSE(vcpu->vm->has_irqchip);
	EXPECT_FALSE(kernel_has_irqchip(vcpu->vm)) TH_LOG("KVM has an irqchip nobody asked for");
	ASSERT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	vcpu_regs_get(vcpu, &regs);
	EXPECT_EQ(1, regs.rip) TH_LOG("not stopped just past the guest's hlt");
	EXPECT_EQ(1, vcpu->stats.exits[KVM_EXIT_HLT]);
	ASSERT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ(7, vcpu->exit_status) TH_LOG("the guest did not go on after its hlt");
	vm_destroy(vcpu->vm);
}

TEST(with_irqchip_pit_wakes_hlt)
{
	struct vcpu *vcpu;

	TEST_REQUIRE(need_mode(KVM_MODE_PROTECTED));
	TEST_REQUIRE(need_irqchip());
	vcpu = irqchip_guest(tick_guest_start, tick_guest_end);
	EXPECT_TRUE(vcpu->vm->has_irqchip);
	EXPECT_TRUE(kernel_has_irqchip(vcpu->vm));
	for (uint32_t tick = 1; tick <= TICKS_WANTED; tick++) {
		ASSERT_EQ(VCPU_SYNC, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
		EXPECT_EQ(tick, vcpu->sync_stage) TH_LOG("one tick per hlt");
		EXPECT_EQ(0, vcpu->stats.exits[KVM_EXIT_HLT]) TH_LOG("hlt left the kernel");
	}
	ASSERT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ(0, vcpu->exit_status);
	vm_destroy(vcpu->vm);
}

/* vm_irq_line(): an edge on IRQ1 from the host reaches the guest's handler. */
TEST(injected_irq_line_reaches_guest)
{
	struct vcpu *vcpu;

	TEST_REQUIRE(need_mode(KVM_MODE_PROTECTED));
	TEST_REQUIRE(need_irqchip());
	vcpu = irqchip_guest(irq1_guest_start, irq1_guest_end);

	ASSERT_EQ(VCPU_SYNC, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	ASSERT_EQ(1, vcpu->sync_stage);
	vm_irq_line(vcpu->vm, 1, 1);
	vm_irq_line(vcpu->vm, 1, 0);

	ASSERT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	ASSERT_EQ(1, vcpu->nr_reports);
	EXPECT_EQ(TAG_IRQS, vcpu->reports[0][0]);
	EXPECT_EQ(1, vcpu->reports[0][1]) TH_LOG("one edge, one interrupt");
	vm_destroy(vcpu->vm);
}

TEST(irqchip_after_vcpu_is_refused)
{
	struct vm *vm = vm_create();

	vcpu_add(vm);
	EXPECT_EQ(-EBUSY, __vm_create_irqchip(vm));
	EXPECT_FALSE(vm->has_irqchip);
	vm_destroy(vm);
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_REAL))
