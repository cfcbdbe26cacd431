/*
 * chat_words.h: the Forth words CHAT, SETTINGS and SETTING!
 * (chat/chat_word.c, docs/chat.md).
 */
#ifndef MNEME_CHAT_WORDS_H
#define MNEME_CHAT_WORDS_H

/* Adds the words to every VM started from now on. 0 or MN_ENOSPC. */
int chat_words_register(void);

#endif
