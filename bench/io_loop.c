/* Workload 1, the talk's program: N x (open with O_CREAT|O_TRUNC, write 6
 * bytes, close). io_loop DIR N */
#include <fcntl.h>
#include <unistd.h>
#include "common.h"

int
main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  long n = atol(argv[2]);
  char path[4096];
  snprintf(path, sizeof path, "%s/my_file", argv[1]);
  long long start = now_ns();
  for (long i = 0; i < n; i++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "hello!", 6) != 6)
      return 1;
    close(fd);
  }
  report(now_ns() - start, n);
  return 0;
}
