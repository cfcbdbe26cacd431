/*
 * entry.S: the exception vectors, the task context switch, the boot stack
 * switch and the MMU switch of the aarch64 platform (AAPCS64, the calling
 * convention UEFI uses on AArch64: callee-saved x19-x29 and the low 64
 * bits of v8-v15).
 *
 * Tasks run at EL1 on SP_EL0; every exception switches to SP_EL1, the
 * exception stack (a64_stack_call sets both), so a task that overflows
 * into its guard page still gets a dump, and interrupt frames never land
 * on small task stacks.
 *
 * Interface:
 *   a64_vectors                       VBAR_EL1 (exc.c installs it)
 *   plat_context_switch(from, to)     (platform.h)
 *   a64_context_start                 first return of a new context
 *   a64_stack_call(sp, fn, exc_sp)    runs fn on a new stack, no return
 *   a64_mmu_enable(ttbr0, tcr, mair, sctlr)   switches translation tables
 *   a64_ap_entry                      another core's first instruction (smp.c)
 */
        .text

/*
 * struct a64_frame (exc.h): x0-x30 at 0, sp_el0 at 248, elr 256, spsr
 * 264, esr 272, far 280, kind 288 (the vector: 0-15), q0-q31 at 304,
 * fpcr and fpsr at 816; 832 bytes. The whole FP/SIMD state is saved:
 * the C handlers may use vector registers.
 */
        .equ FRAME, 832

        .macro VEC kind
        .p2align 7
        sub sp, sp, #FRAME
        stp x0, x1, [sp, #0]
        mov x0, #\kind
        b exc_common
        .endm

        .p2align 11
        .globl a64_vectors
a64_vectors:
        VEC 0
        VEC 1
        VEC 2
        VEC 3
        VEC 4
        VEC 5
        VEC 6
        VEC 7
        VEC 8
        VEC 9
        VEC 10
        VEC 11
        VEC 12
        VEC 13
        VEC 14
        VEC 15

exc_common:
        stp x2, x3, [sp, #16]
        stp x4, x5, [sp, #32]
        stp x6, x7, [sp, #48]
        stp x8, x9, [sp, #64]
        stp x10, x11, [sp, #80]
        stp x12, x13, [sp, #96]
        stp x14, x15, [sp, #112]
        stp x16, x17, [sp, #128]
        stp x18, x19, [sp, #144]
        stp x20, x21, [sp, #160]
        stp x22, x23, [sp, #176]
        stp x24, x25, [sp, #192]
        stp x26, x27, [sp, #208]
        stp x28, x29, [sp, #224]
        mrs x1, sp_el0
        stp x30, x1, [sp, #240]
        mrs x1, elr_el1
        mrs x2, spsr_el1
        stp x1, x2, [sp, #256]
        mrs x1, esr_el1
        mrs x2, far_el1
        stp x1, x2, [sp, #272]
        str x0, [sp, #288]
        stp q0, q1, [sp, #304]
        stp q2, q3, [sp, #336]
        stp q4, q5, [sp, #368]
        stp q6, q7, [sp, #400]
        stp q8, q9, [sp, #432]
        stp q10, q11, [sp, #464]
        stp q12, q13, [sp, #496]
        stp q14, q15, [sp, #528]
        stp q16, q17, [sp, #560]
        stp q18, q19, [sp, #592]
        stp q20, q21, [sp, #624]
        stp q22, q23, [sp, #656]
        stp q24, q25, [sp, #688]
        stp q26, q27, [sp, #720]
        stp q28, q29, [sp, #752]
        stp q30, q31, [sp, #784]
        mrs x1, fpcr
        mrs x2, fpsr
        add x3, sp, #816
        stp x1, x2, [x3]
        mov x29, xzr
        mov x0, sp
        bl a64_exception
        add x3, sp, #816
        ldp x1, x2, [x3]
        msr fpcr, x1
        msr fpsr, x2
        ldp q0, q1, [sp, #304]
        ldp q2, q3, [sp, #336]
        ldp q4, q5, [sp, #368]
        ldp q6, q7, [sp, #400]
        ldp q8, q9, [sp, #432]
        ldp q10, q11, [sp, #464]
        ldp q12, q13, [sp, #496]
        ldp q14, q15, [sp, #528]
        ldp q16, q17, [sp, #560]
        ldp q18, q19, [sp, #592]
        ldp q20, q21, [sp, #624]
        ldp q22, q23, [sp, #656]
        ldp q24, q25, [sp, #688]
        ldp q26, q27, [sp, #720]
        ldp q28, q29, [sp, #752]
        ldp q30, q31, [sp, #784]
        ldp x1, x2, [sp, #256]
        msr elr_el1, x1
        msr spsr_el1, x2
        ldp x30, x1, [sp, #240]
        msr sp_el0, x1
        ldp x2, x3, [sp, #16]
        ldp x4, x5, [sp, #32]
        ldp x6, x7, [sp, #48]
        ldp x8, x9, [sp, #64]
        ldp x10, x11, [sp, #80]
        ldp x12, x13, [sp, #96]
        ldp x14, x15, [sp, #112]
        ldp x16, x17, [sp, #128]
        ldp x18, x19, [sp, #144]
        ldp x20, x21, [sp, #160]
        ldp x22, x23, [sp, #176]
        ldp x24, x25, [sp, #192]
        ldp x26, x27, [sp, #208]
        ldp x28, x29, [sp, #224]
        ldp x0, x1, [sp, #0]
        add sp, sp, #FRAME
        eret

/*
 * plat_context_switch(from = x0, to = x1): saves the callee-saved state
 * (x19-x30, d8-d15, FPCR) on the current stack, stores the stack pointer
 * in from->sp and resumes the state saved on to->sp. Frame (from the
 * saved sp up): x19-x28, x29 x30, d8-d15, fpcr, pad; 176 bytes.
 */
        .globl plat_context_switch
plat_context_switch:
        sub sp, sp, #176
        stp x19, x20, [sp, #0]
        stp x21, x22, [sp, #16]
        stp x23, x24, [sp, #32]
        stp x25, x26, [sp, #48]
        stp x27, x28, [sp, #64]
        stp x29, x30, [sp, #80]
        stp d8, d9, [sp, #96]
        stp d10, d11, [sp, #112]
        stp d12, d13, [sp, #128]
        stp d14, d15, [sp, #144]
        mrs x9, fpcr
        str x9, [sp, #160]
        mov x9, sp
        str x9, [x0]
        ldr x9, [x1]
        mov sp, x9
        ldr x9, [sp, #160]
        msr fpcr, x9
        ldp d14, d15, [sp, #144]
        ldp d12, d13, [sp, #128]
        ldp d10, d11, [sp, #112]
        ldp d8, d9, [sp, #96]
        ldp x29, x30, [sp, #80]
        ldp x27, x28, [sp, #64]
        ldp x25, x26, [sp, #48]
        ldp x23, x24, [sp, #32]
        ldp x21, x22, [sp, #16]
        ldp x19, x20, [sp, #0]
        add sp, sp, #176
        ret

/*
 * First "return" of a new context: x19 holds entry (plat_context_init).
 * The executor switches with interrupts masked and each resumed task
 * restores its own state, but a new task has none: it starts with
 * interrupts on, like every task outside a plat_irq_save section.
 */
        .globl a64_context_start
a64_context_start:
        msr daifclr, #2
        mov x29, xzr
        mov x30, xzr
        blr x19
        brk #1

/*
 * a64_stack_call(sp = x0, fn = x1, exc_sp = x2): never returns. Firmware
 * that ran at EL2 (a hypervisor-capable CPU, QEMU with virtualization=on)
 * is left for EL1 first: EL1 in AArch64 with its own timer, FP/SIMD and
 * GIC system registers, its MMU off until mmu_init (a64_entered_el2 says
 * so; nothing traps to EL2 any more, whose vectors were boot services').
 */
        .globl a64_stack_call
a64_stack_call:
        mrs x9, CurrentEL
        cmp x9, #8
        b.ne 1f
        adrp x9, a64_entered_el2
        mov w10, #1
        str w10, [x9, :lo12:a64_entered_el2]
        mov x9, #(1 << 31)              /* HCR_EL2.RW: EL1 is AArch64 */
        msr hcr_el2, x9
        mrs x9, cnthctl_el2
        orr x9, x9, #3                  /* EL1PCTEN, EL1PCEN */
        msr cnthctl_el2, x9
        msr cntvoff_el2, xzr
        mov x9, #0x33ff                 /* CPTR_EL2: RES1, no FP traps */
        msr cptr_el2, x9
        mrs x9, S3_4_C12_C9_5           /* ICC_SRE_EL2: SRE, Enable for EL1 */
        orr x9, x9, #0xf
        msr S3_4_C12_C9_5, x9
        mrs x9, midr_el1
        msr vpidr_el2, x9
        mrs x9, mpidr_el1
        msr vmpidr_el2, x9
        mov x9, #(3 << 20)              /* CPACR_EL1.FPEN */
        msr cpacr_el1, x9
        ldr x9, =0x30d00800             /* SCTLR_EL1: RES1 bits, MMU off */
        msr sctlr_el1, x9
        mov x9, #0x3c5                  /* EL1h, DAIF masked */
        msr spsr_el2, x9
        adr x9, 1f
        msr elr_el2, x9
        isb
        eret
1:      msr spsel, #1
        mov sp, x2
        msr spsel, #0
        mov sp, x0
        mov x29, xzr
        mov x30, xzr
        blr x1
        brk #1
        .ltorg

/*
 * a64_ap_entry: where PSCI CPU_ON starts another core (smp.c), MMU off,
 * x0 = its record (struct a64_ap_boot: ttbr0, tcr, mair, sctlr, vbar,
 * stack, exception stack, fn, arg at 8-byte steps). A core started at
 * EL2 leaves for EL1 as a64_stack_call does; then FP/SIMD on, the first
 * core's translation tables and vectors, its stacks, and fn(arg).
 */
        .globl a64_ap_entry
a64_ap_entry:
        mov x19, x0
        mrs x9, CurrentEL
        cmp x9, #8
        b.ne 1f
        mov x9, #(1 << 31)              /* HCR_EL2.RW */
        msr hcr_el2, x9
        mrs x9, cnthctl_el2
        orr x9, x9, #3
        msr cnthctl_el2, x9
        msr cntvoff_el2, xzr
        mov x9, #0x33ff
        msr cptr_el2, x9
        mrs x9, S3_4_C12_C9_5
        orr x9, x9, #0xf
        msr S3_4_C12_C9_5, x9
        mrs x9, midr_el1
        msr vpidr_el2, x9
        mrs x9, mpidr_el1
        msr vmpidr_el2, x9
        ldr x9, =0x30d00800
        msr sctlr_el1, x9
        mov x9, #0x3c5
        msr spsr_el2, x9
        adr x9, 1f
        msr elr_el2, x9
        isb
        eret
1:      mov x9, #(3 << 20)              /* CPACR_EL1.FPEN */
        msr cpacr_el1, x9
        ldp x0, x1, [x19, #0]           /* ttbr0, tcr */
        ldp x2, x3, [x19, #16]          /* mair, sctlr */
        msr mair_el1, x2
        msr tcr_el1, x1
        msr ttbr0_el1, x0
        isb
        tlbi vmalle1
        dsb nsh
        isb
        msr sctlr_el1, x3
        isb
        ic iallu
        dsb nsh
        isb
        ldp x4, x5, [x19, #32]          /* vbar, stack */
        ldp x6, x7, [x19, #48]          /* exception stack, fn */
        ldr x0, [x19, #64]              /* arg */
        msr vbar_el1, x4
        isb
        msr spsel, #1
        mov sp, x6
        msr spsel, #0
        mov sp, x5
        mov x29, xzr
        mov x30, xzr
        blr x7
        brk #1
        .ltorg

/*
 * a64_mmu_enable(ttbr0 = x0, tcr = x1, mair = x2, sctlr = x3): turns the
 * MMU off (the firmware's tables), loads the new registers, invalidates
 * the TLB and turns it on again. Runs from the identity map, touches no
 * memory meanwhile.
 */
        .globl a64_mmu_enable
a64_mmu_enable:
        dsb sy
        mrs x4, sctlr_el1
        bic x4, x4, #1
        msr sctlr_el1, x4
        isb
        msr mair_el1, x2
        msr tcr_el1, x1
        msr ttbr0_el1, x0
        isb
        tlbi vmalle1
        dsb nsh
        isb
        msr sctlr_el1, x3
        isb
        ic iallu
        dsb nsh
        isb
        ret

/*
 * Probes for the FP/SIMD self-tests (fpu.c).
 *
 * a64_simd_probe(in = x0, out = x1, spins = x2, counter = x3): loads
 * v0-v31 from in[32][16] and FPCR from in + 512, then spins until the
 * 64-bit *counter (the interrupt count) changes or x2 rounds have passed,
 * stores v0-v31 to out and FPCR to out + 512. Returns 1 if an interrupt
 * came during the spin, else 0. Keeps the caller's d8-d15 and FPCR.
 */
        .globl a64_simd_probe
a64_simd_probe:
        sub sp, sp, #80
        stp d8, d9, [sp, #0]
        stp d10, d11, [sp, #16]
        stp d12, d13, [sp, #32]
        stp d14, d15, [sp, #48]
        mrs x9, fpcr
        str x9, [sp, #64]
        ldr x9, [x0, #512]
        msr fpcr, x9
        ld1 {v0.16b-v3.16b}, [x0], #64
        ld1 {v4.16b-v7.16b}, [x0], #64
        ld1 {v8.16b-v11.16b}, [x0], #64
        ld1 {v12.16b-v15.16b}, [x0], #64
        ld1 {v16.16b-v19.16b}, [x0], #64
        ld1 {v20.16b-v23.16b}, [x0], #64
        ld1 {v24.16b-v27.16b}, [x0], #64
        ld1 {v28.16b-v31.16b}, [x0], #64
        ldr x10, [x3]
        mov x0, xzr
1:      ldr x11, [x3]
        cmp x11, x10
        b.ne 2f
        subs x2, x2, #1
        b.ne 1b
        b 3f
2:      mov x0, #1
3:
        st1 {v0.16b-v3.16b}, [x1], #64
        st1 {v4.16b-v7.16b}, [x1], #64
        st1 {v8.16b-v11.16b}, [x1], #64
        st1 {v12.16b-v15.16b}, [x1], #64
        st1 {v16.16b-v19.16b}, [x1], #64
        st1 {v20.16b-v23.16b}, [x1], #64
        st1 {v24.16b-v27.16b}, [x1], #64
        st1 {v28.16b-v31.16b}, [x1], #64
        mrs x9, fpcr
        str x9, [x1]
        ldr x9, [sp, #64]
        msr fpcr, x9
        ldp d8, d9, [sp, #0]
        ldp d10, d11, [sp, #16]
        ldp d12, d13, [sp, #32]
        ldp d14, d15, [sp, #48]
        add sp, sp, #80
        ret

/*
 * a64_callee_probe(in = x0, out = x1, fn = x2): loads d8-d15 from
 * in[8][8] and FPCR from in + 64, calls fn (task_yield: other tasks run),
 * stores d8-d15 to out and FPCR to out + 64. Keeps the caller's.
 */
        .globl a64_callee_probe
a64_callee_probe:
        sub sp, sp, #112
        stp x29, x30, [sp, #0]
        stp x19, x20, [sp, #16]
        stp d8, d9, [sp, #32]
        stp d10, d11, [sp, #48]
        stp d12, d13, [sp, #64]
        stp d14, d15, [sp, #80]
        mrs x9, fpcr
        str x9, [sp, #96]
        mov x29, sp
        mov x19, x1
        ldp d8, d9, [x0, #0]
        ldp d10, d11, [x0, #16]
        ldp d12, d13, [x0, #32]
        ldp d14, d15, [x0, #48]
        ldr x9, [x0, #64]
        msr fpcr, x9
        blr x2
        stp d8, d9, [x19, #0]
        stp d10, d11, [x19, #16]
        stp d12, d13, [x19, #32]
        stp d14, d15, [x19, #48]
        mrs x9, fpcr
        str x9, [x19, #64]
        ldr x9, [sp, #96]
        msr fpcr, x9
        ldp d14, d15, [sp, #80]
        ldp d12, d13, [sp, #64]
        ldp d10, d11, [sp, #48]
        ldp d8, d9, [sp, #32]
        ldp x19, x20, [sp, #16]
        ldp x29, x30, [sp, #0]
        add sp, sp, #112
        ret
