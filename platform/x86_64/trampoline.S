/*
 * trampoline.S: where an application processor starts (SIPI), copied by
 * smp.c to a page below 1 MiB. Real mode -> protected mode (a GDT of its
 * own) -> long mode on mneme's page tables (CR3 and EFER as the boot
 * processor has them), then calls the C entry with the stack and argument
 * smp.c wrote into the data at its end. Position independent: everything
 * is addressed from the page's base (CS << 4, kept in ebx).
 *
 * Interface: x86_tramp_start, x86_tramp_end and the data labels.
 */
        .intel_syntax noprefix
        .text
        .p2align 12
        .globl x86_tramp_start, x86_tramp_end, x86_tramp_prot32, x86_tramp_long64
/* The data's offsets in the page (smp.c has the same). */
        .set T_GDT, 0xf00
        .set T_GDTR, 0xf20
        .set T_FAR32, 0xf28
        .set T_FAR64, 0xf30
        .set T_CR3, 0xf38
        .set T_EFER, 0xf40
        .set T_STACK, 0xf48
        .set T_ENTRY, 0xf50
        .set T_ARG, 0xf58
x86_tramp_start:
        .code16
        cli
        cld
        mov ax, cs
        mov ds, ax
        xor ebx, ebx
        mov bx, ax
        shl ebx, 4                      /* ebx = the page's base */
        lgdt [T_GDTR]
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        /* jmp far dword [x86_tramp_far32] (66 FF /5, disp16) */
        .byte 0x66, 0xff, 0x2e
        .word T_FAR32

        .code32
x86_tramp_prot32:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov eax, cr4
        or eax, 0x620                   /* PAE, OSFXSR, OSXMMEXCPT: C may use SSE */
        mov cr4, eax
        mov eax, [ebx + T_CR3]
        mov cr3, eax
        mov ecx, 0xc0000080             /* EFER: the boot processor's (LME, NXE) */
        mov eax, [ebx + T_EFER]
        mov edx, [ebx + T_EFER + 4]
        wrmsr
        mov eax, cr0
        or eax, 0x80010003              /* PG, WP, MP, PE */
        and eax, 0xfffffffb             /* no EM */
        mov cr0, eax
        /* jmp far dword [ebx + x86_tramp_far64] (FF /5, [ebx + disp32]) */
        .byte 0xff, 0xab
        .long T_FAR64

        .code64
x86_tramp_long64:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov ebx, ebx
        mov rsp, [rbx + T_STACK]
        mov rcx, [rbx + T_ARG]
        mov rax, [rbx + T_ENTRY]
        sub rsp, 32
        call rax
1:      cli
        hlt
        jmp 1b

        .org T_GDT
        .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
        .quad 0x00cf92000000ffff        /* 0x10: data */
        .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
        .org T_GDTR
        .word 31
        .long 0                         /* base + T_GDT, patched */
        .org T_FAR32
        .long 0                         /* base + (prot32 - start), patched */
        .word 0x08
        .org T_FAR64
        .long 0                         /* base + (long64 - start), patched */
        .word 0x18
        .org T_ARG + 8
x86_tramp_end:
