/*
 * entry.S: interrupt entry stubs, the task context switch and the boot
 * stack switch. The platform is compiled for the Microsoft x64 calling
 * convention (the one UEFI uses): arguments in rcx, rdx, r8, r9, 32 bytes
 * of shadow space, callee-saved rbx, rbp, rdi, rsi, r12-r15, xmm6-xmm15.
 *
 * Interface:
 *   x86_isr_table    256 entry points, one per vector (cpu.c fills the IDT)
 *   plat_context_switch(from, to)        (platform.h)
 *   x86_context_start                    first return of a new context
 *   x86_stack_call(sp, fn)               runs fn on a new stack, no return
 */
        .intel_syntax noprefix
        .text

/* Each stub: [push 0 if the CPU pushes no error code], push vector, jmp. */
        .p2align 4
        .globl x86_isr_table
x86_isr_table:
        vec = 0
        .rept 256
        .p2align 4
        .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
        .else
        push 0
        .endif
        push vec
        jmp isr_common
        vec = vec + 1
        .endr

/*
 * Stack at isr_common: vector, error, rip, cs, rflags, rsp, ss. We push
 * the general registers to complete struct x86_frame (cpu.h), save the
 * FPU/SSE/AVX state below it (xsave or fxsave), and call
 * x86_interrupt(frame).
 */
isr_common:
        push rax
        push rbx
        push rcx
        push rdx
        push rsi
        push rdi
        push rbp
        push r8
        push r9
        push r10
        push r11
        push r12
        push r13
        push r14
        push r15
        cld
        mov rbx, rsp
        sub rsp, 4096
        and rsp, -64
        mov eax, dword ptr [rip + x86_xsave_mask]
        test eax, eax
        jz 1f
        xor eax, eax
        mov qword ptr [rsp + 512], rax
        mov qword ptr [rsp + 520], rax
        mov qword ptr [rsp + 528], rax
        mov qword ptr [rsp + 536], rax
        mov qword ptr [rsp + 544], rax
        mov qword ptr [rsp + 552], rax
        mov qword ptr [rsp + 560], rax
        mov qword ptr [rsp + 568], rax
        mov eax, dword ptr [rip + x86_xsave_mask]
        mov edx, dword ptr [rip + x86_xsave_mask + 4]
        xsave64 [rsp]
        jmp 2f
1:      fxsave64 [rsp]
2:      mov rcx, rbx
        sub rsp, 32
        call x86_interrupt
        add rsp, 32
        mov eax, dword ptr [rip + x86_xsave_mask]
        test eax, eax
        jz 3f
        mov edx, dword ptr [rip + x86_xsave_mask + 4]
        xrstor64 [rsp]
        jmp 4f
3:      fxrstor64 [rsp]
4:      mov rsp, rbx
        pop r15
        pop r14
        pop r13
        pop r12
        pop r11
        pop r10
        pop r9
        pop r8
        pop rbp
        pop rdi
        pop rsi
        pop rdx
        pop rcx
        pop rbx
        pop rax
        add rsp, 16
        iretq

/*
 * plat_context_switch(from = rcx, to = rdx): saves the callee-saved state
 * of the Microsoft x64 ABI (general registers, xmm6-xmm15, MXCSR and the
 * x87 control word) on the current stack, stores the stack pointer in
 * from->sp and resumes the state saved on to->sp. The upper halves of the
 * ymm/zmm registers are volatile across calls in this ABI, so a call-site
 * switch needs no xsave. Frame (from the saved sp up): mxcsr+fcw (16),
 * xmm6-xmm15 (160), r15 r14 r13 r12 rsi rdi rbx rbp, return address.
 */
        .globl plat_context_switch
plat_context_switch:
        push rbp
        push rbx
        push rdi
        push rsi
        push r12
        push r13
        push r14
        push r15
        sub rsp, 176
        movdqu [rsp + 16], xmm6
        movdqu [rsp + 32], xmm7
        movdqu [rsp + 48], xmm8
        movdqu [rsp + 64], xmm9
        movdqu [rsp + 80], xmm10
        movdqu [rsp + 96], xmm11
        movdqu [rsp + 112], xmm12
        movdqu [rsp + 128], xmm13
        movdqu [rsp + 144], xmm14
        movdqu [rsp + 160], xmm15
        stmxcsr [rsp]
        fnstcw [rsp + 4]
        mov [rcx], rsp
        mov rsp, [rdx]
        ldmxcsr [rsp]
        fldcw [rsp + 4]
        movdqu xmm6, [rsp + 16]
        movdqu xmm7, [rsp + 32]
        movdqu xmm8, [rsp + 48]
        movdqu xmm9, [rsp + 64]
        movdqu xmm10, [rsp + 80]
        movdqu xmm11, [rsp + 96]
        movdqu xmm12, [rsp + 112]
        movdqu xmm13, [rsp + 128]
        movdqu xmm14, [rsp + 144]
        movdqu xmm15, [rsp + 160]
        add rsp, 176
        pop r15
        pop r14
        pop r13
        pop r12
        pop rsi
        pop rdi
        pop rbx
        pop rbp
        ret

/*
 * First "return" of a new context: r12 holds entry (plat_context_init).
 * The executor switches with interrupts off and each task restores its
 * own state when it resumes; a new task has none, so it starts with
 * interrupts on, like every task outside a plat_irq_save section.
 */
        .globl x86_context_start
x86_context_start:
        sti
        xor ebp, ebp
        and rsp, -16
        sub rsp, 32
        call r12
        ud2

/* x86_stack_call(sp = rcx, fn = rdx): never returns. */
        .globl x86_stack_call
x86_stack_call:
        mov rsp, rcx
        xor ebp, ebp
        sub rsp, 32
        call rdx
        ud2

/*
 * Probes for the FPU tests (fpu.c).
 *
 * x86_ymm_probe(in = rcx, out = rdx, spins = r8): loads ymm0-ymm15 from
 * in[16][32] and MXCSR from in + 512, spins r8 times (interrupts arrive),
 * stores ymm0-ymm15 to out[16][32] and MXCSR to out + 512. Keeps the
 * caller's xmm6-xmm15 and MXCSR. Needs AVX.
 */
        .globl x86_ymm_probe
x86_ymm_probe:
        push rbp
        mov rbp, rsp
        sub rsp, 176
        and rsp, -16
        movdqu [rsp], xmm6
        movdqu [rsp + 16], xmm7
        movdqu [rsp + 32], xmm8
        movdqu [rsp + 48], xmm9
        movdqu [rsp + 64], xmm10
        movdqu [rsp + 80], xmm11
        movdqu [rsp + 96], xmm12
        movdqu [rsp + 112], xmm13
        movdqu [rsp + 128], xmm14
        movdqu [rsp + 144], xmm15
        stmxcsr [rsp + 160]
        vmovdqu ymm0, [rcx]
        vmovdqu ymm1, [rcx + 32]
        vmovdqu ymm2, [rcx + 64]
        vmovdqu ymm3, [rcx + 96]
        vmovdqu ymm4, [rcx + 128]
        vmovdqu ymm5, [rcx + 160]
        vmovdqu ymm6, [rcx + 192]
        vmovdqu ymm7, [rcx + 224]
        vmovdqu ymm8, [rcx + 256]
        vmovdqu ymm9, [rcx + 288]
        vmovdqu ymm10, [rcx + 320]
        vmovdqu ymm11, [rcx + 352]
        vmovdqu ymm12, [rcx + 384]
        vmovdqu ymm13, [rcx + 416]
        vmovdqu ymm14, [rcx + 448]
        vmovdqu ymm15, [rcx + 480]
        ldmxcsr [rcx + 512]
1:      dec r8
        jnz 1b
        vmovdqu [rdx], ymm0
        vmovdqu [rdx + 32], ymm1
        vmovdqu [rdx + 64], ymm2
        vmovdqu [rdx + 96], ymm3
        vmovdqu [rdx + 128], ymm4
        vmovdqu [rdx + 160], ymm5
        vmovdqu [rdx + 192], ymm6
        vmovdqu [rdx + 224], ymm7
        vmovdqu [rdx + 256], ymm8
        vmovdqu [rdx + 288], ymm9
        vmovdqu [rdx + 320], ymm10
        vmovdqu [rdx + 352], ymm11
        vmovdqu [rdx + 384], ymm12
        vmovdqu [rdx + 416], ymm13
        vmovdqu [rdx + 448], ymm14
        vmovdqu [rdx + 480], ymm15
        stmxcsr [rdx + 512]
        vzeroupper
        movdqu xmm6, [rsp]
        movdqu xmm7, [rsp + 16]
        movdqu xmm8, [rsp + 32]
        movdqu xmm9, [rsp + 48]
        movdqu xmm10, [rsp + 64]
        movdqu xmm11, [rsp + 80]
        movdqu xmm12, [rsp + 96]
        movdqu xmm13, [rsp + 112]
        movdqu xmm14, [rsp + 128]
        movdqu xmm15, [rsp + 144]
        ldmxcsr [rsp + 160]
        mov rsp, rbp
        pop rbp
        ret

/*
 * x86_xmm_probe(in = rcx, out = rdx, fn = r8): loads xmm6-xmm15 from
 * in[10][16] and MXCSR from in + 160, calls fn() (which switches tasks),
 * stores xmm6-xmm15 and MXCSR to out. Keeps the caller's xmm6-xmm15 and
 * MXCSR. Across the call only the ABI's callee-saved state is kept, so
 * this checks what plat_context_switch saves.
 */
        .globl x86_xmm_probe
x86_xmm_probe:
        push rbp
        push rsi
        push rdi
        mov rbp, rsp
        sub rsp, 176 + 32
        and rsp, -16
        movdqu [rsp + 32], xmm6
        movdqu [rsp + 48], xmm7
        movdqu [rsp + 64], xmm8
        movdqu [rsp + 80], xmm9
        movdqu [rsp + 96], xmm10
        movdqu [rsp + 112], xmm11
        movdqu [rsp + 128], xmm12
        movdqu [rsp + 144], xmm13
        movdqu [rsp + 160], xmm14
        movdqu [rsp + 176], xmm15
        stmxcsr [rsp + 192]
        mov rsi, rcx
        mov rdi, rdx
        movdqu xmm6, [rsi]
        movdqu xmm7, [rsi + 16]
        movdqu xmm8, [rsi + 32]
        movdqu xmm9, [rsi + 48]
        movdqu xmm10, [rsi + 64]
        movdqu xmm11, [rsi + 80]
        movdqu xmm12, [rsi + 96]
        movdqu xmm13, [rsi + 112]
        movdqu xmm14, [rsi + 128]
        movdqu xmm15, [rsi + 144]
        ldmxcsr [rsi + 160]
        call r8
        movdqu [rdi], xmm6
        movdqu [rdi + 16], xmm7
        movdqu [rdi + 32], xmm8
        movdqu [rdi + 48], xmm9
        movdqu [rdi + 64], xmm10
        movdqu [rdi + 80], xmm11
        movdqu [rdi + 96], xmm12
        movdqu [rdi + 112], xmm13
        movdqu [rdi + 128], xmm14
        movdqu [rdi + 144], xmm15
        stmxcsr [rdi + 160]
        movdqu xmm6, [rsp + 32]
        movdqu xmm7, [rsp + 48]
        movdqu xmm8, [rsp + 64]
        movdqu xmm9, [rsp + 80]
        movdqu xmm10, [rsp + 96]
        movdqu xmm11, [rsp + 112]
        movdqu xmm12, [rsp + 128]
        movdqu xmm13, [rsp + 144]
        movdqu xmm14, [rsp + 160]
        movdqu xmm15, [rsp + 176]
        ldmxcsr [rsp + 192]
        mov rsp, rbp
        pop rdi
        pop rsi
        pop rbp
        ret
