/*
 * gguf_host.c: maps a GGUF file read-only into memory (hosted build only).
 *
 * Interface:
 *   gguf_map_file    open + mmap a whole file
 *   gguf_unmap_file  undo it
 */
#include <mneme/gguf.h>
#include <mneme/err.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int
gguf_map_file(struct gguf_map *m, const char *path)
{
  struct stat st;
  m->addr = NULL;
  m->size = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return MN_ENOENT;
  int err = 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    err = MN_EIO;
  else if (st.st_size == 0)
    err = MN_EFORMAT;
  if (!err) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      err = MN_EIO;
    } else {
      m->addr = p;
      m->size = (size_t)st.st_size;
    }
  }
  close(fd);
  return err;
}

void
gguf_unmap_file(struct gguf_map *m)
{
  if (m->addr)
    munmap(m->addr, m->size);
  m->addr = NULL;
  m->size = 0;
}
