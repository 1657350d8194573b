/* Workload 8: the floor under --all-syscalls' cost on this machine: N x
 * close(-1) by an inline `syscall` instruction, each dispatched by Syscall
 * User Dispatch to a minimal SIGSYS handler that makes the call from its
 * allowed range (no hooks, no hijack). sigsys_floor N */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/prctl.h>
#include <ucontext.h>
#include "common.h"

#if defined(__linux__) && defined(__x86_64__)
static volatile char selector;
extern char floor_start[], floor_end[];
long floor_syscall(long nr, long a1);
__asm__(".text\n"
        "floor_start:\n"
        "floor_syscall: mov %rdi, %rax\n mov %rsi, %rdi\n syscall\n ret\n"
        "floor_end: nop\n");

static void
handler(int sig, siginfo_t *si, void *context)
{
  (void)sig;
  (void)si;
  ucontext_t *uc = context;
  selector = 0; /* (the C library's rt_sigreturn after this is allowed) */
  greg_t *g = uc->uc_mcontext.gregs;
  g[REG_RAX] = floor_syscall(g[REG_RAX], g[REG_RDI]);
}
#endif

int
main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 100000;
#if defined(__linux__) && defined(__x86_64__)
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSYS, &sa, NULL);
  if (prctl(59, 1, (long)floor_start, (long)(floor_end - floor_start), (long)&selector) != 0)
    return 1;
  long long start = now_ns();
  for (long i = 0; i < n; i++) {
    long r;
    selector = 1;
    __asm__ volatile("syscall" : "=a"(r) : "a"(3L), "D"(-1L) : "rcx", "r11", "memory");
  }
  report(now_ns() - start, n);
#else
  report(0, n);
#endif
  return 0;
}
