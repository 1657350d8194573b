/* System calls made without the C library's functions, for --all-syscalls
 * (bintest/all_syscalls_test.rb): inline `syscall` on x86_64, `int $0x80`
 * on i386.
 *   rawcalls openat PATH     openat by inline assembly: prints its result
 *   rawcalls fgets PATH      fopen + fgets: prints the line
 *   rawcalls printf PATH     fprintf to PATH (stdio's buffered write)
 *   rawcalls threads N       8 threads, N raw getppid each
 *   rawcalls children PATH   fork (raw openat in the child), vfork + exec,
 *                            posix_spawn and system of `rawcalls cat PATH`
 *   rawcalls cat PATH        PATH's first bytes to standard output, by raw
 *                            openat, read and write
 *   rawcalls masked PATH     its own SIGSYS handler, every signal blocked,
 *                            then a raw openat: prints its result and mask
 *   rawcalls seccomp -       its own SIGSYS handler and a seccomp filter
 *                            trapping getppid: prints what the handler saw
 *   rawcalls clone PATH      glibc's clone() copying the process: the child
 *                            opens PATH raw and prints; then the parent's
 *                            syscall(SYS_getppid) and a printf that exit()
 *                            writes
 *   rawcalls handler N       N times SIGUSR1 to itself, whose handler blocks
 *                            every signal (as Go's do) and makes a raw
 *                            getppid: prints how many ran
 *   rawcalls small-stack N   a thread on a 16 KiB stack (PTHREAD_STACK_MIN,
 *                            as Go's goroutines have small ones) and the
 *                            main thread on an 8 KiB signal stack, each
 *                            making N raw getppid: prints "small done"
 *   rawcalls alarm -         a raw nanosleep of 300 ms that SIGALRM (after
 *                            20 ms) interrupts, whose handler makes a raw
 *                            getppid: prints the sleep's result
 *   rawcalls alarm-libc -    the same with the C library's nanosleep: prints
 *                            its result, errno and whether sigaction reads
 *                            the handler back as set
 *   rawcalls fork-storm N    N forks whose children exit at once, reaped by a
 *                            SIGCHLD handler that makes a raw getppid (its
 *                            signals land in the next forks): prints "forked
 *                            N" once all are reaped
 *   rawcalls own-sud -       turns on Syscall User Dispatch of its own:
 *                            prints prctl's result and errno
 *   rawcalls until-fails PATH  a raw openat of PATH every 50 ms (at most
 *                            600 times) until one fails: prints its result
 *   rawcalls mallocs N       8 threads, N times each malloc of 256 KiB (past
 *                            a fixed mmap threshold: one mmap and one munmap
 *                            each, made inside malloc and free), its bytes
 *                            written and checked: prints "mallocs done" */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

extern char **environ;

static long raw(long nr, long a1, long a2, long a3) {
  long r;
#if defined(__x86_64__)
  register long r10 __asm__("r10") = 0;
  __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10) : "rcx", "r11", "memory");
#else
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a1), "c"(a2), "d"(a3) : "memory");
#endif
  return r;
}

static long raw_openat(const char *path) { return raw(SYS_openat, -100, (long)path, O_RDONLY); }

static long per_thread;
static void *getppids(void *arg) {
  (void)arg;
  for (long i = 0; i < per_thread; i++)
    raw(SYS_getppid, 0, 0, 0);
  return NULL;
}

#include <malloc.h>
#define BIG_BLOCK (256 * 1024)
static void *mallocs(void *arg) {
  unsigned char tag = (unsigned char)(size_t)arg;
  for (long i = 0; i < per_thread; i++) {
    unsigned char *p = malloc(BIG_BLOCK);
    if (!p)
      abort();
    memset(p, tag, BIG_BLOCK);
    for (size_t j = 0; j < BIG_BLOCK; j += 4096)
      if (p[j] != tag)
        abort();
    free(p);
  }
  return NULL;
}

static char clone_stack[65536] __attribute__((aligned(16)));
static int cloned(void *path) {
  printf("child opened: %ld\n", raw_openat((const char *)path));
  fflush(stdout);
  return 7;
}

static volatile int handled;
static void usr1(int sig) {
  (void)sig;
  raw(SYS_getppid, 0, 0, 0);
  handled++;
}

static void *small_stack_calls(void *arg) {
  for (long i = 0; i < (long)arg; i++)
    raw(SYS_getppid, 0, 0, 0);
  return NULL;
}

static void alarmed(int sig) {
  (void)sig;
  raw(SYS_getppid, 0, 0, 0);
}

static void own_sigsys(int sig) { (void)sig; }

static volatile int reaped;
static void chld(int sig) {
  (void)sig;
  raw(SYS_getppid, 0, 0, 0);
  while (waitpid(-1, NULL, WNOHANG) > 0)
    reaped++;
}

static volatile int trapped;
static void seccomp_sigsys(int sig, siginfo_t *si, void *context) {
  (void)sig;
  (void)context;
  trapped = si->si_code == 1 /* SYS_SECCOMP */ ? si->si_syscall : -1;
}

/* Installs `fn` for `sig` (a three-argument handler with SA_SIGINFO),
 * every signal blocked while it runs when `full`. */
static void handle(int sig, void *fn, int flags, int full) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  if (flags & SA_SIGINFO)
    sa.sa_sigaction = fn;
  else
    sa.sa_handler = fn;
  sa.sa_flags = flags;
  if (full)
    sigfillset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/* The same timer in two modes: SIGALRM's handler makes a raw getppid,
 * 20 ms from now. */
static void alarm_soon(void) {
  handle(SIGALRM, alarmed, 0, 0);
  struct itimerval it = {{0, 0}, {0, 20000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

int main(int argc, char **argv) {
  if (argc < 3)
    return 2;
  const char *what = argv[1], *arg = argv[2];
  if (!strcmp(what, "openat")) {
    printf("openat: %ld\n", raw_openat(arg));
  } else if (!strcmp(what, "fgets")) {
    char line[128] = "";
    FILE *f = fopen(arg, "r");
    if (!f || !fgets(line, sizeof line, f))
      return 1;
    printf("fgets: %s", line);
    fclose(f);
  } else if (!strcmp(what, "printf")) {
    FILE *f = fopen(arg, "w");
    if (!f)
      return 1;
    fprintf(f, "hello from %s\n", "printf");
    fclose(f);
  } else if (!strcmp(what, "threads")) {
    per_thread = atol(arg);
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
      pthread_create(&t[i], NULL, getppids, NULL);
    for (int i = 0; i < 8; i++)
      pthread_join(t[i], NULL);
    printf("threads done\n");
  } else if (!strcmp(what, "mallocs")) {
    per_thread = atol(arg);
    /* (a fixed threshold: glibc's moving one would serve later blocks
     * from the heap) */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
      pthread_create(&t[i], NULL, mallocs, (void *)(size_t)(i + 1));
    for (int i = 0; i < 8; i++)
      pthread_join(t[i], NULL);
    printf("mallocs done\n");
  } else if (!strcmp(what, "children")) {
    int status;
    pid_t pid = fork();
    if (pid == 0)
      _exit(raw_openat(arg) >= 0 ? 0 : 1);
    waitpid(pid, &status, 0);
    /* (this program again: a child of the target's architecture) */
    char self[1024];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len < 0)
      return 1;
    self[len] = 0;
    pid = vfork();
    if (pid == 0) {
      execl(self, "rawcalls", "cat", arg, (char *)NULL);
      _exit(127);
    }
    waitpid(pid, &status, 0);
    char *spawn_argv[] = {"rawcalls", "cat", (char *)arg, NULL};
    if (posix_spawn(&pid, self, NULL, NULL, spawn_argv, environ) == 0)
      waitpid(pid, &status, 0);
    char command[2200];
    snprintf(command, sizeof command, "'%s' cat '%s'", self, arg);
    status = system(command);
    printf("children done\n");
  } else if (!strcmp(what, "cat")) {
    char buf[256];
    long fd = raw_openat(arg);
    long n = fd < 0 ? 0 : raw(SYS_read, fd, (long)buf, sizeof buf);
    if (n > 0)
      raw(SYS_write, 1, (long)buf, n);
  } else if (!strcmp(what, "masked")) {
    handle(SIGSYS, own_sigsys, 0, 0);
    sigset_t all, now;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    long r = raw_openat(arg);
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("openat: %ld, SIGINT blocked: %d\n", r, sigismember(&now, SIGINT));
  } else if (!strcmp(what, "clone")) {
    int pid = clone(cloned, clone_stack + sizeof clone_stack, SIGCHLD, (void *)arg);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
      return 1;
    syscall(SYS_getppid);
    printf("child status %d\n", WEXITSTATUS(status));
  } else if (!strcmp(what, "handler")) {
    handle(SIGUSR1, usr1, 0, 1);
    int n = atoi(arg);
    for (int i = 0; i < n; i++)
      raise(SIGUSR1);
    printf("handled %d\n", handled);
  } else if (!strcmp(what, "small-stack")) {
    long n = atol(arg);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 16384);
    pthread_t t;
    if (pthread_create(&t, &attr, small_stack_calls, (void *)n))
      return 1;
    pthread_join(t, NULL);
    static char altstack[8192];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    small_stack_calls((void *)n);
    printf("small done\n");
  } else if (!strcmp(what, "alarm")) {
    alarm_soon();
    struct timespec ts = {0, 300000000};
    printf("nanosleep: %ld\n", raw(SYS_nanosleep, (long)&ts, 0, 0));
  } else if (!strcmp(what, "alarm-libc")) {
    alarm_soon();
    struct sigaction back;
    sigaction(SIGALRM, NULL, &back);
    int same = back.sa_handler == alarmed && !(back.sa_flags & SA_SIGINFO);
    struct timespec ts = {0, 300000000};
    int r = nanosleep(&ts, NULL);
    printf("nanosleep: %d %s, handler read back: %d\n", r, strerror(errno), same);
  } else if (!strcmp(what, "fork-storm")) {
    handle(SIGCHLD, chld, SA_RESTART, 0);
    alarm(60); /* (a hang ends the test, killed) */
    int n = atoi(arg);
    for (int i = 0; i < n; i++)
      if (fork() == 0)
        _exit(0);
    while (reaped < n)
      pause();
    printf("forked %d\n", n);
  } else if (!strcmp(what, "own-sud")) {
    static volatile char own_selector;
    int r = prctl(59 /* PR_SET_SYSCALL_USER_DISPATCH */, 1, 0, 0, &own_selector);
    printf("own dispatch: %d %s\n", r, r ? strerror(errno) : "");
  } else if (!strcmp(what, "until-fails")) {
    for (int i = 0; i < 600; i++) {
      long fd = raw_openat(arg);
      if (fd < 0) {
        printf("failed: %ld\n", fd);
        return 0;
      }
      raw(SYS_close, fd, 0, 0);
      usleep(50000);
    }
    return 1;
  } else if (!strcmp(what, "seccomp")) {
    handle(SIGSYS, seccomp_sigsys, SA_SIGINFO, 0);
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
      return 1;
    long r = raw(SYS_getppid, 0, 0, 0);
    printf("trapped: %d, result %ld\n", trapped, r);
  } else {
    return 2;
  }
  return 0;
}
