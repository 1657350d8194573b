/* Exercises 64-bit file offsets: a sparse file with data past 4 GiB, read
 * back with pread, its size with fstat. On 32-bit targets it is built with
 * _FILE_OFFSET_BITS=64, so open, lseek, pread and fstat are the *64 calls. */
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: offsets FILE\n");
    return 2;
  }
  const off_t far = (off_t)5 << 30; /* 5 GiB */
  int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
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
  unlink(argv[1]);
  return 0;
}
