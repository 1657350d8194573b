/* Syscall User Dispatch (hijack run --all-syscalls): the machine part, in C
 * and assembly because it is made of instructions the kernel must find at
 * known places (Linux x86_64; src/sud_i386.c is i686's, src/sud_rewrite.c the
 * fast path; elsewhere this file is empty).
 *
 * - The allowed range is the section `hijack_sud`: system calls made from
 *   it are never dispatched. It holds the one place hijack makes a call on
 *   the program's behalf (hijack_sud_syscall), the return from hijack's
 *   SIGSYS handler (hijack_sud_restorer), the program's own signal return
 *   redone (hijack_sud_sigreturn) and clone with a new stack
 *   (hijack_sud_clone).
 * - The selector is one byte per thread (initial-exec TLS): BLOCK while the
 *   program's code runs, ALLOW while hijack's does (the guard flips it,
 *   src/platform/sud.rs).
 * - The SIGSYS handler hands the call to Rust (hijack_sud_call) and puts
 *   the result in the saved RAX.
 *
 * Compiled only into libhijack.so (HIJACK_PRELOAD). */
#if defined(HIJACK_PRELOAD) && defined(__linux__) && defined(__x86_64__)

#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#define NR_RT_SIGACTION 13
#define NR_KILL 62
#define NR_GETPID 39
#define NR_PRCTL 157


__thread volatile char hijack_sud_selector __attribute__((tls_model("initial-exec")));
/* What the selector is set to when the SIGSYS handler returns. */
__thread char hijack_sud_after __attribute__((tls_model("initial-exec")));
/* The return addresses of the calls the program makes again from
 * hijack_sud_resume (a stack: a signal handler delivered as one returns may
 * make calls of its own), and how many there are. */
#define SUD_RESUMES 64
__thread unsigned long hijack_sud_resumes[SUD_RESUMES] __attribute__((tls_model("initial-exec")));
__thread unsigned int hijack_sud_resume_depth __attribute__((tls_model("initial-exec")));
/* The stack hijack's part of the handler runs on, one per thread, made on
 * the thread's first SIGSYS (a goroutine's or a small thread's stack has no
 * room for hooks), and how many handlers run on it now. */
#define SUD_STACK (256 * 1024)
#define SUD_GUARD 4096
__thread char *hijack_sud_stack __attribute__((tls_model("initial-exec")));
__thread unsigned int hijack_sud_depth __attribute__((tls_model("initial-exec")));
/* What hijack_sud_call returns for a call the program makes itself, after
 * the handler (src/entry/raw.rs: PASS). */
#define SUD_PASS (-0x7fffffffffffffffL - 1)

long hijack_sud_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
void hijack_sud_restorer(void);
void hijack_sud_resume(void);
void hijack_sud_sigreturn(long rsp, long selector) __attribute__((noreturn));
long hijack_sud_clone(const long *regs, long stack);

__asm__(
    ".pushsection hijack_sud,\"ax\",@progbits\n"
    ".p2align 4\n"
    /* hijack_sud_syscall(nr, a1..a6): the System V arguments moved to the
     * kernel's registers; the raw result (-errno on failure). */
    ".globl hijack_sud_syscall\n"
    ".hidden hijack_sud_syscall\n"
    ".type hijack_sud_syscall,@function\n"
    "hijack_sud_syscall:\n"
    "  mov %rdi, %rax\n"
    "  mov %rsi, %rdi\n"
    "  mov %rdx, %rsi\n"
    "  mov %rcx, %rdx\n"
    "  mov %r8, %r10\n"
    "  mov %r9, %r8\n"
    "  mov 8(%rsp), %r9\n"
    "  syscall\n"
    "  ret\n"
    /* The SIGSYS handler returns here (sa_restorer): the selector as the
     * handler left it for the program, then rt_sigreturn, from the range. */
    ".globl hijack_sud_restorer\n"
    ".hidden hijack_sud_restorer\n"
    ".type hijack_sud_restorer,@function\n"
    "hijack_sud_restorer:\n"
    "  mov hijack_sud_after@gottpoff(%rip), %rax\n"
    "  movzbl %fs:(%rax), %ecx\n"
    "  mov hijack_sud_selector@gottpoff(%rip), %rax\n"
    "  movb %cl, %fs:(%rax)\n"
    "  mov $15, %eax\n"
    "  syscall\n"
    "  hlt\n"
    /* The program's call made again, by the program, from here (the
     * handler put the call's number back in RAX and this address in RIP;
     * the arguments are in their registers still), then back where it was
     * made, popped from hijack_sud_resumes: RCX that address and R11 the
     * flags, as the kernel leaves them (a scratch register saved below the
     * red zone); no flag changes after the call. */
    ".globl hijack_sud_resume\n"
    ".hidden hijack_sud_resume\n"
    ".type hijack_sud_resume,@function\n"
    "hijack_sud_resume:\n"
    "  syscall\n"
    "  lea -128(%rsp), %rsp\n"
    "  push %rdx\n"
    "  mov hijack_sud_resume_depth@gottpoff(%rip), %rdx\n"
    "  movl %fs:(%rdx), %ecx\n"
    "  lea -1(%rcx), %ecx\n"
    "  movl %ecx, %fs:(%rdx)\n"
    "  mov hijack_sud_resumes@gottpoff(%rip), %rdx\n"
    "  lea (%rdx,%rcx,8), %rdx\n"
    "  mov %fs:(%rdx), %rcx\n"
    "  pop %rdx\n"
    "  lea 128(%rsp), %rsp\n"
    "  jmp *%rcx\n"
    /* hijack_sud_sigreturn(rsp, selector): the program's own rt_sigreturn
     * (from the C library's restorer, outside the range), made again from
     * here with its stack: the selector as the interrupted code had it
     * first. */
    ".globl hijack_sud_sigreturn\n"
    ".hidden hijack_sud_sigreturn\n"
    ".type hijack_sud_sigreturn,@function\n"
    "hijack_sud_sigreturn:\n"
    "  mov hijack_sud_selector@gottpoff(%rip), %rax\n"
    "  movb %sil, %fs:(%rax)\n"
    "  mov %rdi, %rsp\n"
    "  mov $15, %eax\n"
    "  syscall\n"
    "  hlt\n"
    /* hijack_sud_clone(regs, stack): clone(2) with a new stack, made with
     * the program's registers (regs: the saved gregs) so that the child
     * starts where the program's call was, as if it had made it: the return
     * address goes on the child's stack, which the child pops (its stack
     * pointer and RSI then as the kernel would leave them). A child with a
     * TLS of its own, or a vfork-like one, turns dispatch on for itself
     * first. Returns the parent's result. */
    ".globl hijack_sud_clone\n"
    ".hidden hijack_sud_clone\n"
    ".type hijack_sud_clone,@function\n"
    "hijack_sud_clone:\n"
    "  push %rbx\n"
    "  push %rbp\n"
    "  push %r12\n"
    "  push %r13\n"
    "  push %r14\n"
    "  push %r15\n"
    "  mov %rdi, %r11\n"          /* regs */
    "  mov 16*8(%r11), %rax\n"    /* REG_RIP (gregs index 16) */
    "  mov %rax, -8(%rsi)\n"      /* the return address, on the new stack */
    "  lea -8(%rsi), %rsi\n"
    "  mov 0*8(%r11), %r8\n"      /* REG_R8 */
    "  mov 1*8(%r11), %r9\n"      /* REG_R9 */
    "  mov 2*8(%r11), %r10\n"     /* REG_R10 */
    "  mov 4*8(%r11), %r12\n"
    "  mov 5*8(%r11), %r13\n"
    "  mov 6*8(%r11), %r14\n"
    "  mov 7*8(%r11), %r15\n"
    "  mov 8*8(%r11), %rdi\n"     /* REG_RDI: the flags */
    "  mov 10*8(%r11), %rbp\n"
    "  mov 11*8(%r11), %rbx\n"
    "  mov 12*8(%r11), %rdx\n"    /* REG_RDX */
    "  mov $56, %eax\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jz 1f\n"
    "  pop %r15\n"
    "  pop %r14\n"
    "  pop %r13\n"
    "  pop %r12\n"
    "  pop %rbp\n"
    "  pop %rbx\n"
    "  ret\n"
    /* The child, on its new stack (RSP: the return address). */
    "1:\n"
    "  test $0x84000, %edi\n"     /* CLONE_SETTLS|CLONE_VFORK */
    "  jz 2f\n"
    "  push %rdi\n"
    "  push %rsi\n"
    "  push %rdx\n"
    "  push %r10\n"
    "  push %r8\n"
    "  push %r9\n"
    "  mov hijack_sud_selector@gottpoff(%rip), %r8\n"
    "  add %fs:0, %r8\n"          /* this thread's selector */
    "  movb $1, (%r8)\n"
    "  mov $157, %eax\n"          /* prctl */
    "  mov $59, %edi\n"           /* PR_SET_SYSCALL_USER_DISPATCH */
    "  mov $1, %esi\n"            /* PR_SYS_DISPATCH_ON */
    "  lea __start_hijack_sud(%rip), %rdx\n"
    "  lea __stop_hijack_sud(%rip), %r10\n"
    "  sub %rdx, %r10\n"
    "  syscall\n"
    "  pop %r9\n"
    "  pop %r8\n"
    "  pop %r10\n"
    "  pop %rdx\n"
    "  pop %rsi\n"
    "  pop %rdi\n"
    "2:\n"
    "  xor %eax, %eax\n"
    "  lea 8(%rsp), %rsi\n"       /* RSI as the kernel leaves it: the stack */
    "  ret\n"
    ".popsection\n");

#include "sud_common.h"

/* hijack_sud_switch(arg, fn, top): fn(arg) on the stack ending at top. */
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".globl hijack_sud_switch\n"
    ".hidden hijack_sud_switch\n"
    ".type hijack_sud_switch,@function\n"
    "hijack_sud_switch:\n"
    "  push %rbp\n"
    "  mov %rsp, %rbp\n"
    "  mov %rdx, %rsp\n"
    "  call *%rsi\n"
    "  mov %rbp, %rsp\n"
    "  pop %rbp\n"
    "  ret\n");
void hijack_sud_switch(void *arg, void (*fn)(void *), char *top);

/* Rust's side: the call, its six arguments, the saved context; returns
 * the raw result. The program's own action for a signal, kept there
 * (kernel layout: handler, flags, restorer, mask; src/entry/signals.rs),
 * and what its handlers run with. */
extern long hijack_sud_call(long nr, long *args, ucontext_t *uc);
/* src/sud_rewrite.c: a call came from the site ending at this address. */
extern void hijack_sud_site(unsigned long a, long nr);

/* This thread's own stack, made on its first SIGSYS; 0 where it cannot be
 * had (then the handler runs where the kernel put it). */
static char *own_stack(void) {
  if (!hijack_sud_stack) {
    long p = hijack_sud_syscall(9 /* mmap */, 0, SUD_STACK, 3 /* PROT_READ|PROT_WRITE */,
                                0x22 | 0x4000 | 0x20000 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_STACK */, -1, 0);
    if (p < 0 && p > -4096)
      return 0;
    hijack_sud_syscall(10 /* mprotect */, p, SUD_GUARD, 0 /* PROT_NONE: the guard page */, 0, 0, 0);
    hijack_sud_stack = (char *)p;
  }
  return hijack_sud_stack;
}

/* A thread's end (the exit system call, made raw by the C library): its own
 * stack goes, from the stack the kernel put the handler on. */
static void forget_own_stack(void) {
  if (hijack_sud_stack && !hijack_sud_depth) {
    hijack_sud_syscall(11 /* munmap */, (long)hijack_sud_stack, SUD_STACK, 0, 0, 0, 0);
    hijack_sud_stack = 0;
  }
}

/* The call's result in the saved context: the kernel's result, or the
 * program made to make it itself, from hijack_sud_resume. */
static void set_result(greg_t *g, long nr, long *args, long r) {
  if (r == SUD_PASS) {
    unsigned int depth = hijack_sud_resume_depth;
    if (depth < SUD_RESUMES) {
      hijack_sud_resumes[depth] = g[REG_RIP];
      hijack_sud_resume_depth = depth + 1;
      g[REG_RIP] = (greg_t)hijack_sud_resume;
      r = nr;
    } else {
      /* (a handler that jumped out of many of them: made here) */
      r = hijack_sud_syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
    }
  }
  g[REG_RAX] = r;
}

/* The program's rt_sigreturn, made from the range (its context at `rsp`,
 * its mask keeping SIGSYS unblocked), back to the state its handler's
 * signal landed in. */
static void __attribute__((noreturn)) program_sigreturn(long rsp) {
  ((ucontext_t *)rsp)->uc_sigmask.__val[0] &= ~(1UL << (SIGSYS - 1));
  hijack_sud_sigreturn(rsp, hijack_sud_signal_leave((void *)rsp, SUD_BLOCK));
}

/* A SIGSYS frame moved to this thread's own stack. */
struct moved {
  ucontext_t *uc;
  siginfo_t *si;
};

/* The handler's work on its own stack, then the return to the program
 * through rt_sigreturn of the moved frame. Signals are blocked for the
 * last steps (rt_sigreturn puts the program's mask back): a handler
 * nested there would be given the stack this frame is on. */
static void __attribute__((noreturn)) on_own_stack(void *p) {
  struct moved *m = p;
  ucontext_t *uc = m->uc;
  greg_t *g = uc->uc_mcontext.gregs;
  long nr = m->si->si_syscall;
  long args[6] = {g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9]};
  long r = hijack_sud_call(nr, args, uc);
  hijack_sud_site(g[REG_RIP], nr);
  if (nr != 15)
    set_result(g, nr, args, r);
  unsigned long all = ~0UL;
  hijack_sud_syscall(14 /* rt_sigprocmask */, SIG_SETMASK, (long)&all, 0, 8, 0, 0);
  hijack_sud_depth--;
  if (nr == 15)
    program_sigreturn(g[REG_RSP]);
  /* (the moved frame begins 8 bytes below its context: the return
   * address the kernel leaves there) */
  hijack_sud_sigreturn((long)uc, SUD_BLOCK);
}

/* The size of the FPU/vector state the kernel saved with the frame. */
static size_t fpstate_size(const char *fp) {
  const struct _fpx_sw_bytes *sw = (const void *)(fp + 464);
  return sw->magic1 == FP_XSTATE_MAGIC1 ? sw->extended_size : 512;
}

/* Moves the kernel's SIGSYS frame (the context, siginfo and FPU state) to
 * this thread's own stack and carries on there, never to come back: a
 * goroutine's or a small thread's stack has no room for hooks, and on the
 * thread's signal stack (SA_ONSTACK, where the kernel puts the frame when
 * the thread has one) a signal arriving meanwhile would be put on top of
 * it. Returns only where it cannot (no stack, nested too deep). */
static void move_to_own_stack(siginfo_t *si, ucontext_t *uc) {
  unsigned int depth = hijack_sud_depth;
  char *base = depth < 2 ? own_stack() : 0;
  if (!base)
    return;
  /* depth 0 gets the top 192 KiB, depth 1 (a signal handler of the
   * program's, run while a hook did, made a call) the rest */
  char *top = depth == 0 ? base + SUD_STACK : base + SUD_STACK / 4;
  char *start = (char *)uc - 8, *end = (char *)si + sizeof(siginfo_t);
  char *fp = (char *)uc->uc_mcontext.fpregs;
  if (fp) {
    if (fp < start || fp > start + 65536)
      return;
    if (fp + fpstate_size(fp) > end)
      end = fp + fpstate_size(fp);
  }
  if ((char *)si < start || end - start > 32768)
    return;
  size_t len = end - start, fp_off = fp ? fp - start : 0;
  /* (the FPU state 64-byte aligned, as XRSTOR wants it) */
  uintptr_t dst = ((uintptr_t)top - len - 64) & ~(uintptr_t)63;
  dst -= (dst + fp_off) & 63;
  __builtin_memcpy((void *)dst, start, len);
  struct moved *m = (struct moved *)((dst - sizeof(struct moved)) & ~(uintptr_t)15);
  m->uc = (ucontext_t *)(dst + 8);
  m->si = (siginfo_t *)(dst + ((char *)si - start));
  if (fp)
    m->uc->uc_mcontext.fpregs = (fpregset_t)(dst + fp_off);
  hijack_sud_depth = depth + 1;
  hijack_sud_switch(m, (void (*)(void *))on_own_stack, (char *)(((uintptr_t)m - 128) & ~(uintptr_t)15));
  __builtin_unreachable();
}

static void hijack_sud_handler(int sig, siginfo_t *si, void *context) {
  ucontext_t *uc = context;
  greg_t *g = uc->uc_mcontext.gregs;
  if (si->si_code != SYS_USER_DISPATCH_CODE) {
    /* not ours (a seccomp filter's): the program's handler, with the
     * selector as it was */
    char selector = hijack_sud_selector;
    program_sigsys(sig, si, context);
    hijack_sud_after = selector;
    return;
  }
  hijack_sud_selector = SUD_ALLOW;
  long nr = si->si_syscall;
  if (nr == 60)
    /* exit: the thread ends, and its own stack with it (the hooks run
     * here) */
    forget_own_stack();
  else
    move_to_own_stack(si, uc);
  /* (here: where it could not move) */
  long args[6] = {g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9]};
  long r = hijack_sud_call(nr, args, uc);
  if (nr == 15)
    /* rt_sigreturn, from a handler of the program's: seen by the hooks,
     * then made from here */
    program_sigreturn(g[REG_RSP]);
  set_result(g, nr, args, r);
  hijack_sud_after = SUD_BLOCK;
}

#endif
