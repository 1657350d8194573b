/* What src/sud.c (x86_64) and src/sud_i386.c (i686) share: the program's
 * own SIGSYS and its other handlers, hijack's handler installed, dispatch
 * turned on for a thread, the selector swapped. Included once by the file of the target's
 * architecture, which defines NR_RT_SIGACTION, NR_KILL, NR_GETPID and
 * NR_PRCTL (its numbers), hijack_sud_selector, hijack_sud_syscall,
 * hijack_sud_restorer and hijack_sud_handler. */
#ifndef HIJACK_SUD_COMMON_H
#define HIJACK_SUD_COMMON_H

#include <signal.h>
#include <stdint.h>

#define SUD_ALLOW 0
#define SUD_BLOCK 1
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#define SYS_USER_DISPATCH_CODE 2
#define HIJACK_SA_RESTORER 0x04000000
#define HIJACK_SA_NODEFER 0x40000000

/* A signal's action as rt_sigaction(2) has it. */
struct sud_action {
  void *handler;
  unsigned long flags;
  void *restorer;
  uint64_t mask;
};

extern char __start_hijack_sud[], __stop_hijack_sud[];
/* src/entry/signals.rs: the program's own action for a signal (handler
 * and flags first). */
extern const unsigned long *hijack_sud_program_action(int sig);
/* src/entry/signals.rs: a handler of the program's about to run on the
 * frame whose context is `uc`, and what its return puts back (the
 * selector it had, or `otherwise`). */
extern void hijack_sud_signal_enter(void *uc);
extern unsigned char hijack_sud_signal_leave(void *uc, unsigned char otherwise);
static void hijack_sud_handler(int sig, siginfo_t *si, void *context);

/* A SIGSYS that is not dispatch's (the program's own seccomp filter): what
 * the program asked for. */
static void program_sigsys(int sig, siginfo_t *si, void *context) {
  const unsigned long *act = hijack_sud_program_action(SIGSYS);
  unsigned long handler = act[0], flags = act[1];
  if (handler == (unsigned long)SIG_IGN)
    return;
  if (handler == (unsigned long)SIG_DFL) {
    /* its default: the process ends by SIGSYS */
    struct sud_action dfl = {SIG_DFL, 0, 0, 0};
    hijack_sud_syscall(NR_RT_SIGACTION, SIGSYS, (long)&dfl, 0, 8, 0, 0);
    hijack_sud_syscall(NR_KILL, hijack_sud_syscall(NR_GETPID, 0, 0, 0, 0, 0, 0), SIGSYS, 0, 0, 0, 0);
    return;
  }
  if (flags & SA_SIGINFO)
    ((void (*)(int, siginfo_t *, void *))handler)(sig, si, context);
  else
    ((void (*)(int))handler)(sig);
}

/* Every handler of the program's (src/entry/signals.rs installs this one
 * in its place): run as the program's code, wherever the signal landed. */
void hijack_sud_on_signal(int sig, siginfo_t *si, void *context) {
  const unsigned long *act = hijack_sud_program_action(sig);
  unsigned long handler = act[0], flags = act[1];
#if defined(__i386__)
  /* (i686, a handler without SA_SIGINFO: a sigframe, whose sigcontext
   * follows the signal's number, is known by that) */
  void *frame = (flags & SA_SIGINFO) ? context : (void *)(&sig + 1);
#else
  void *frame = context;
#endif
  hijack_sud_signal_enter(frame);
  if (flags & SA_SIGINFO)
    ((void (*)(int, siginfo_t *, void *))handler)(sig, si, context);
  else
    ((void (*)(int))handler)(sig);
#if defined(__i386__)
  /* (i686: the handler returns through the vDSO's sigreturn, which the
   * kernel never dispatches: the state goes back here) */
  hijack_sud_selector = hijack_sud_signal_leave(frame, hijack_sud_selector);
#endif
}

/* Installs the SIGSYS handler (with the restorer in the range; SIGSYS is
 * not blocked while it runs, so that a child cloned from it starts with
 * the program's mask; on the thread's signal stack where it has one, as
 * Go's threads do, whose goroutine stacks are small): 0, or the raw error. */
long hijack_sud_install(void) {
  struct sud_action sa = {(void *)hijack_sud_handler, SA_SIGINFO | SA_ONSTACK | HIJACK_SA_RESTORER | HIJACK_SA_NODEFER,
                          (void *)hijack_sud_restorer, 0};
  return hijack_sud_syscall(NR_RT_SIGACTION, SIGSYS, (long)&sa, 0, 8, 0, 0);
}

/* Turns dispatch on for the calling thread: 0, or the raw error. */
long hijack_sud_enable(void) {
  hijack_sud_selector = SUD_BLOCK;
  long r = hijack_sud_syscall(NR_PRCTL, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, (long)__start_hijack_sud,
                              (long)(__stop_hijack_sud - __start_hijack_sud), (long)&hijack_sud_selector, 0);
  if (r != 0)
    hijack_sud_selector = SUD_ALLOW;
  return r;
}

/* The selector's value before, after setting it to `v`. */
char hijack_sud_swap(char v) {
  char old = hijack_sud_selector;
  hijack_sud_selector = v;
  return old;
}

#endif
