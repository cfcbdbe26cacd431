/*
 * forth_files.h: Forth words on the files service (files.h).
 *
 * File-Access (Forth 2012, 11.6.1): R/O W/O R/W BIN OPEN-FILE CREATE-FILE
 * CLOSE-FILE READ-FILE READ-LINE WRITE-FILE WRITE-LINE DELETE-FILE
 * FILE-POSITION REPOSITION-FILE FILE-SIZE RESIZE-FILE RENAME-FILE
 * FLUSH-FILE FILE-STATUS; INCLUDED and INCLUDE (the VM's) read through
 * the host hooks below. A fileid is a files-service handle owned by the
 * VM's task (closed when the VM ends); an ior is 0 or an MN_E or FAT_E
 * code. Paths are absolute ("/boot/x.fs"); a relative one is taken from
 * "/".
 *
 * Block (Forth 2012, 7.6): the library's BLOCK BUFFER UPDATE FLUSH LOAD
 * LIST THRU ... on a blocks file through forth_files_ops.
 *
 * Shell words:
 *   LS ( c-addr u -- )   list a directory ("/" lists the volumes)
 *   CAT ( c-addr u -- )  type a file
 *   RM ( c-addr u -- )   remove a file or an empty directory
 *   MKDIR ( c-addr u -- )
 *   DF ( -- )            free and total space of every volume
 * These THROW FT_E_FILE on an error, after printing it.
 */
#ifndef MNEME_FORTH_FILES_H
#define MNEME_FORTH_FILES_H

#include <stddef.h>
#include "mneme/forth_task.h"

#define FT_E_FILE (-310)

/* Adds the words to ft's VM. 0 or MN_ENOMEM. */
int forth_files_install(struct forth_task *ft);

/* Adds the File-Access words only (not the shell words) to any VM, one
 * not run by a forth_task (the model's forth tool). 0 or MN_ENOMEM. */
int forth_files_install_access(forth_vm *vm);

/* The VM's file hooks (struct forth_host open/read/close); ctx is the
 * forth_task. */
int forth_files_open(void *ctx, const char *name, size_t len);
long forth_files_read(void *ctx, int handle, char *buf, size_t cap);
void forth_files_close(void *ctx, int handle);

/* The Block word set's backend (struct forth_host.files): blocks files
 * on the files service ("/disk1/blocks.fb" after OPEN-BLOCKS; the
 * default "blocks.fb" is "/blocks.fb", which exists on no volume). The
 * library's File-Access words are shadowed by the words above. */
extern const struct forth_files forth_files_ops;

#endif
