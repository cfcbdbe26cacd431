/*
 * context_x86_64.S: task switch for x86_64 System V (hosted Linux).
 *
 * plat_context_switch(from, to): pushes the callee-saved registers and the
 * SSE/x87 control words on the current stack, stores the stack pointer in
 * from->sp, loads to->sp and pops the same frame. A new context's frame
 * (made by plat_context_init) "returns" into its entry function.
 */
        .text
        .globl  mn_context_switch_asm
        .type   mn_context_switch_asm, @function
mn_context_switch_asm:
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    (%rsi), %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .size   mn_context_switch_asm, .-mn_context_switch_asm

/* First code of a new context: calls mn_context_start_c(r12 = entry). */
        .globl  mn_context_start
        .type   mn_context_start, @function
mn_context_start:
        andq    $-16, %rsp
        movq    %r12, %rdi
        call    mn_context_start_c
        ud2
        .size   mn_context_start, .-mn_context_start
        .section .note.GNU-stack,"",@progbits
