/* Workload 7: N x close(-1) made by an inline `syscall` instruction (no C
 * library function): what --all-syscalls catches through SIGSYS, or at a
 * rewritten site (the number put in EAX just before, as the C library's
 * own calls and Go's runtime do). raw N */
#include "common.h"

static long
raw_close(long fd)
{
#if defined(__x86_64__)
  long r;
  __asm__ volatile("mov $3, %%eax\n syscall" : "=a"(r) : "D"(fd) : "rcx", "r11", "memory");
  return r;
#else
  (void)fd;
  return -1;
#endif
}

int
main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  long long start = now_ns();
  for (long i = 0; i < n; i++)
    raw_close(-1);
  report(now_ns() - start, n);
  return 0;
}
