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

/* First "return" of a new context: r12 holds entry (plat_context_init). */
        .globl x86_context_start
x86_context_start:
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
