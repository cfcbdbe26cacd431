/*
 * chat_console.h: the chat on the framebuffer, Alt+F1 (chat_console.c).
 */
#ifndef MNEME_X86_CHAT_CONSOLE_H
#define MNEME_X86_CHAT_CONSOLE_H

#include "mneme/keyboard.h"

/* Starts the chat's task (after the console). 0, MN_ENOTSUP (no
 * framebuffer), MN_ENOMEM. */
int uefi_chat_start(void);
/* 1 while the chat owns the screen and the keyboard. */
int uefi_chat_shown(void);
/* Shows the chat (1) or the Forth shell's text console (0). */
void uefi_chat_show(int chat);
/* A key for the chat (while shown). */
void uefi_chat_key(const struct key_event *ev);

#endif
