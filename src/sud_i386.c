/* Syscall User Dispatch on i686 (hijack run --all-syscalls in a 32-bit
 * process): src/sud.c's machine part for the i386 ABI, simpler. The calls
 * come from `int $0x80` and from the vDSO's __kernel_vsyscall (sysenter or
 * syscall), the number in EAX, the arguments in EBX ECX EDX ESI EDI EBP.
 * The allowed range is the section `hijack_sud` too; what differs from
 * x86_64: the hooks run on the stack the kernel put the handler on (no
 * stack of hijack's own), no site is rewritten, and a handler's
 * `sigreturn` (one without SA_SIGINFO: a sigframe, not an rt frame) is
 * redone as rt_sigreturn is.
 *
 * Compiled only into libhijack.so (HIJACK_PRELOAD). */
#if defined(HIJACK_PRELOAD) && defined(__linux__) && defined(__i386__)

#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

#define NR_EXIT 1
#define NR_GETPID 20
#define NR_KILL 37
#define NR_SIGRETURN 119
#define NR_CLONE 120
#define NR_PRCTL 172
#define NR_RT_SIGRETURN 173
#define NR_RT_SIGACTION 174
#define SUD_PASS (-0x7fffffffffffffffLL - 1)

__thread volatile char hijack_sud_selector __attribute__((tls_model("initial-exec")));
/* The return addresses of the calls the program makes again from
 * hijack_sud_resume (a stack: a handler delivered as one returns may make
 * calls of its own), and how many there are. */
#define SUD_RESUMES 64
__thread unsigned long hijack_sud_resumes[SUD_RESUMES] __attribute__((tls_model("initial-exec")));
__thread unsigned int hijack_sud_resume_depth __attribute__((tls_model("initial-exec")));

long hijack_sud_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
void hijack_sud_restorer(void);
void hijack_sud_sigreturn(long esp, long nr) __attribute__((noreturn));
long hijack_sud_clone(const greg_t *regs, long stack);
void hijack_sud_child_enable(void);
void hijack_sud_resume(void);
unsigned long hijack_sud_resumed(void);

__asm__(
    ".pushsection hijack_sud,\"ax\",@progbits\n"
    ".p2align 4\n"
    /* hijack_sud_syscall(nr, a1..a6): cdecl arguments moved to the
     * kernel's registers; the raw result (-errno on failure). */
    ".globl hijack_sud_syscall\n"
    ".hidden hijack_sud_syscall\n"
    ".type hijack_sud_syscall,@function\n"
    "hijack_sud_syscall:\n"
    "  push %ebp\n"
    "  push %edi\n"
    "  push %esi\n"
    "  push %ebx\n"
    "  mov 20(%esp), %eax\n"
    "  mov 24(%esp), %ebx\n"
    "  mov 28(%esp), %ecx\n"
    "  mov 32(%esp), %edx\n"
    "  mov 36(%esp), %esi\n"
    "  mov 40(%esp), %edi\n"
    "  mov 44(%esp), %ebp\n"
    "  int $0x80\n"
    "  pop %ebx\n"
    "  pop %esi\n"
    "  pop %edi\n"
    "  pop %ebp\n"
    "  ret\n"
    /* The SIGSYS handler returns here (sa_restorer): rt_sigreturn from the
     * range (the handler set the selector for the program already). */
    ".globl hijack_sud_restorer\n"
    ".hidden hijack_sud_restorer\n"
    ".type hijack_sud_restorer,@function\n"
    "hijack_sud_restorer:\n"
    "  mov $173, %eax\n"
    "  int $0x80\n"
    "  hlt\n"
    /* A call no hook wants, made again by the program from here (the
     * handler put the number back in EAX and this address in EIP, the
     * arguments are in their registers still), then back where it was
     * made, popped by hijack_sud_resumed: no register but EAX changes, nor
     * the flags. */
    ".globl hijack_sud_resume\n"
    ".hidden hijack_sud_resume\n"
    ".type hijack_sud_resume,@function\n"
    "hijack_sud_resume:\n"
    "  int $0x80\n"
    "  lea -4(%esp), %esp\n"
    "  pushf\n"
    "  push %eax\n"
    "  push %ecx\n"
    "  push %edx\n"
    "  call hijack_sud_resumed\n"
    "  mov %eax, 16(%esp)\n"
    "  pop %edx\n"
    "  pop %ecx\n"
    "  pop %eax\n"
    "  popf\n"
    "  ret\n"
    /* hijack_sud_sigreturn(esp, nr): the program's own sigreturn or
     * rt_sigreturn, made again from here with its stack. */
    ".globl hijack_sud_sigreturn\n"
    ".hidden hijack_sud_sigreturn\n"
    ".type hijack_sud_sigreturn,@function\n"
    "hijack_sud_sigreturn:\n"
    "  mov 8(%esp), %eax\n"
    "  mov 4(%esp), %esp\n"
    "  int $0x80\n"
    "  hlt\n"
    /* hijack_sud_clone(regs, stack): clone(2) with a new stack, made with
     * the program's registers (the saved gregs) so that the child starts
     * where the program's call was: the return address goes on the new
     * stack, which the child pops (ECX then the stack, as the kernel leaves
     * it). A child with a TLS of its own, or a vfork-like one, turns
     * dispatch on for itself first. Returns the parent's result. */
    ".globl hijack_sud_clone\n"
    ".hidden hijack_sud_clone\n"
    ".type hijack_sud_clone,@function\n"
    "hijack_sud_clone:\n"
    "  push %ebp\n"
    "  push %edi\n"
    "  push %esi\n"
    "  push %ebx\n"
    "  mov 20(%esp), %eax\n"      /* regs */
    "  mov 24(%esp), %ecx\n"      /* the new stack */
    "  mov 14*4(%eax), %edx\n"    /* REG_EIP */
    "  mov %edx, -4(%ecx)\n"
    "  lea -4(%ecx), %ecx\n"
    "  mov 8*4(%eax), %ebx\n"     /* REG_EBX: the flags */
    "  mov 9*4(%eax), %edx\n"     /* REG_EDX: the parent's tid pointer */
    "  mov 5*4(%eax), %esi\n"     /* REG_ESI: the TLS */
    "  mov 4*4(%eax), %edi\n"     /* REG_EDI: the child's tid pointer */
    "  mov 6*4(%eax), %ebp\n"     /* REG_EBP */
    "  mov $120, %eax\n"
    "  int $0x80\n"
    "  test %eax, %eax\n"
    "  jz 1f\n"
    "  pop %ebx\n"
    "  pop %esi\n"
    "  pop %edi\n"
    "  pop %ebp\n"
    "  ret\n"
    "1:\n"
    "  test $0x84000, %ebx\n"     /* CLONE_SETTLS|CLONE_VFORK */
    "  jz 2f\n"
    "  push %ebp\n"
    "  push %ebx\n"
    "  push %edx\n"
    "  push %esi\n"
    "  push %edi\n"
    "  mov %esp, %ebp\n"
    "  and $-16, %esp\n"
    "  call hijack_sud_child_enable\n"
    "  mov %ebp, %esp\n"
    "  pop %edi\n"
    "  pop %esi\n"
    "  pop %edx\n"
    "  pop %ebx\n"
    "  pop %ebp\n"
    "2:\n"
    "  xor %eax, %eax\n"
    "  lea 4(%esp), %ecx\n"
    "  ret\n"
    ".popsection\n");

#include "sud_common.h"

/* Rust's side (src/entry/raw.rs, src/entry/signals.rs). */
extern long long hijack_sud_call(long long nr, long long *args, ucontext_t *uc);


/* hijack_sud_resume's way back: the address its call was made from. */
__attribute__((force_align_arg_pointer)) unsigned long hijack_sud_resumed(void) {
  unsigned int depth = hijack_sud_resume_depth - 1;
  hijack_sud_resume_depth = depth;
  return hijack_sud_resumes[depth];
}

/* A new thread's dispatch, on (called by hijack_sud_clone's child). */
void hijack_sud_child_enable(void) {
  hijack_sud_enable();
}

/* The program's own (rt_)sigreturn, made from the range with its stack,
 * its mask keeping SIGSYS unblocked, back to the state its handler's
 * signal landed in: rt_sigreturn's frame points at its context (esp + 8),
 * sigreturn's is a sigcontext, whose old mask is word 20. */
static void __attribute__((noreturn)) program_sigreturn(long esp, long nr) {
  unsigned long sigsys = 1UL << (SIGSYS - 1);
  char selector = SUD_BLOCK;
  if (nr == NR_RT_SIGRETURN) {
    ucontext_t *uc = *(ucontext_t **)(esp + 8);
    uc->uc_sigmask.__val[0] &= ~sigsys;
    selector = hijack_sud_signal_leave(uc, SUD_BLOCK);
  } else {
    ((unsigned long *)esp)[20] &= ~sigsys;
    selector = hijack_sud_signal_leave((void *)esp, SUD_BLOCK);
  }
  hijack_sud_selector = selector;
  hijack_sud_sigreturn(esp, nr);
}

static void hijack_sud_handler(int sig, siginfo_t *si, void *context) {
  ucontext_t *uc = context;
  greg_t *g = uc->uc_mcontext.gregs;
  if (si->si_code != SYS_USER_DISPATCH_CODE) {
    char selector = hijack_sud_selector;
    program_sigsys(sig, si, context);
    hijack_sud_selector = selector;
    return;
  }
  hijack_sud_selector = SUD_ALLOW;
  long nr = si->si_syscall;
  long long args[6] = {g[REG_EBX], g[REG_ECX], g[REG_EDX], g[REG_ESI], g[REG_EDI], g[REG_EBP]};
  long long r = hijack_sud_call(nr, args, uc);
  if (nr == NR_RT_SIGRETURN || nr == NR_SIGRETURN)
    program_sigreturn(g[REG_ESP], nr);
  if (r == SUD_PASS) {
    /* made by the program once the handler has returned, from the range
     * (a signal it brings finds the program's code running) */
    unsigned int depth = hijack_sud_resume_depth;
    if (depth < SUD_RESUMES) {
      hijack_sud_resumes[depth] = g[REG_EIP];
      hijack_sud_resume_depth = depth + 1;
      g[REG_EIP] = (greg_t)hijack_sud_resume;
      r = nr;
    } else {
      r = hijack_sud_syscall(nr, g[REG_EBX], g[REG_ECX], g[REG_EDX], g[REG_ESI], g[REG_EDI], g[REG_EBP]);
    }
  }
  g[REG_EAX] = (greg_t)r;
  hijack_sud_selector = SUD_BLOCK;
}

#endif
