/* A small cat (open, read, write, close), built for the target under test so
 * that 32-bit builds of hijack have a 32-bit program to hook. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
copy(int fd)
{
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0)
      return 0;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(1, buf + done, (size_t)(n - done));
      if (w < 0) {
        if (errno == EINTR)
          continue;
        return -1;
      }
      done += w;
    }
  }
}

int
main(int argc, char **argv)
{
  int status = 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0 || copy(fd) < 0) {
      fprintf(stderr, "hcat: %s: %s\n", argv[i], strerror(errno));
      status = 1;
    }
    if (fd >= 0)
      close(fd);
  }
  return status;
}
