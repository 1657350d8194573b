/* Workload 3: read FILE to the end in CHUNK-byte reads. read_file FILE CHUNK */
#include <fcntl.h>
#include <unistd.h>
#include "common.h"

int
main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  size_t chunk = (size_t)atol(argv[2]);
  char *buf = malloc(chunk);
  long reads = 0;
  long long start = now_ns();
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0 || !buf)
    return 1;
  for (;;) {
    ssize_t r = read(fd, buf, chunk);
    reads++;
    if (r <= 0)
      break;
  }
  close(fd);
  report(now_ns() - start, reads);
  return 0;
}
