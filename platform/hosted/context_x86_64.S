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

/*
 * mn_context_first_entry: where a new context starts under ASan. The
 * switch that started it never returns into plat_context_switch, so the
 * fiber switch is finished here (mn_asan_first_switch), then the real
 * entry, left in r12 by plat_context_init, runs with the stack as if
 * called.
 */
        .globl  mn_context_first_entry
        .type   mn_context_first_entry, @function
mn_context_first_entry:
        subq    $8, %rsp
        call    mn_asan_first_switch
        addq    $8, %rsp
        jmp     *%r12
        .size   mn_context_first_entry, .-mn_context_first_entry
        .section .note.GNU-stack,"",@progbits
