/* Exercises 64-bit file offsets: a sparse file with data past 4 GiB, read
 * back with pread, its size with fstat. The file is a memfd (memory, one
 * page of it used), so that no file system's idea of sparse files matters.
 * On 32-bit targets it is built with _FILE_OFFSET_BITS=64, so lseek, pread
 * and fstat are the *64 calls. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
  (void)argv;
  if (argc != 1) {
    fprintf(stderr, "usage: offsets\n");
    return 2;
  }
  const off_t far = (off_t)5 << 30; /* 5 GiB */
  int fd = memfd_create("hijack-offsets", 0);
  if (fd < 0 || lseek(fd, far, SEEK_SET) != far || write(fd, "end", 3) != 3) {
    perror("offsets");
    return 1;
  }
  char buf[4] = {0};
  struct stat st;
  if (pread(fd, buf, 3, far) != 3 || fstat(fd, &st) != 0) {
    perror("offsets");
    return 1;
  }
  printf("size=%lld read=%s\n", (long long)st.st_size, buf);
  close(fd);
  return 0;
}
