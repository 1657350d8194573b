/* Workload 9: what the kernel itself adds to every system call of a thread
 * with Syscall User Dispatch on, none dispatched: N x close(-1) through the
 * C library with the selector at ALLOW (hijack's own code and the real
 * calls it makes run so under --all-syscalls). dispatch_on N */
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <unistd.h>
#include "common.h"

static volatile char selector; /* 0: ALLOW */

int
main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 1000000;
#if defined(__linux__)
  /* (the allowed range: one byte of main, never a system call) */
  if (prctl(59, 1, (long)main, 1L, (long)&selector) != 0)
    return 1;
#endif
  long long start = now_ns();
  for (long i = 0; i < n; i++)
    close(-1);
  report(now_ns() - start, n);
  return 0;
}
