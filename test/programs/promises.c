/* The programs behind bintest/promises_test.rb, one per subcommand:
 *   connect HOST PORT [HOST PORT]...  connect to each; "HOST:PORT ok|ERRNO MS"
 *   fork                              fork; parent and child return from main
 *   vfork                             vfork: the child closes -7 and _exits 3;
 *                                     then vfork + execv ARGV[2...]
 *   spawn PROG [ARG]...               posix_spawn PROG, wait; "status=N"
 *   signals N                         N close(-1) while SIGALRM (every 1 ms)
 *                                     runs close(-2); "handled=N"
 *   threads N                         N threads, one after another, each
 *                                     close(-1); "early=KB late=KB" (RSS)
 *   timed-writes N                    N one-byte writes to /dev/null, each
 *                                     one's duration in ns on its own line
 *   read-threads FILE OTHER|same      two threads read in 4 KiB chunks, one
 *                                     FILE, the other OTHER (or, with "same",
 *                                     the same descriptor of FILE); "ms=N"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *
errname(int e)
{
  const char *name = strerrorname_np(e);
  return name ? name : "E???";
}

static int
do_connect(int argc, char **argv)
{
  for (int i = 2; i + 1 < argc; i += 2) {
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[i + 1])) };
    if (inet_pton(AF_INET, argv[i], &sa.sin_addr) != 1)
      return 2;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    long long start = now_ns();
    int r = connect(s, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    long long ms = (now_ns() - start) / 1000000;
    printf("%s:%s %s %lld\n", argv[i], argv[i + 1], r == 0 ? "ok" : errname(e), ms);
    close(s);
  }
  return 0;
}

static int
do_fork(void)
{
  pid_t pid = fork();
  if (pid < 0)
    return 1;
  if (pid > 0) {
    int status;
    waitpid(pid, &status, 0);
    printf("child status=%d\n", WEXITSTATUS(status));
  }
  return 0;
}

static int
do_vfork(int argc, char **argv)
{
  int status;
  pid_t pid = vfork();
  if (pid == 0) {
    close(-7);
    _exit(3);
  }
  waitpid(pid, &status, 0);
  printf("vfork child status=%d\n", WEXITSTATUS(status));
  if (argc > 2) {
    pid = vfork();
    if (pid == 0) {
      execv(argv[2], argv + 2);
      _exit(127);
    }
    waitpid(pid, &status, 0);
    printf("vfork exec status=%d\n", WEXITSTATUS(status));
  }
  return 0;
}

static int
do_spawn(int argc, char **argv)
{
  if (argc < 3)
    return 2;
  pid_t pid;
  int r = posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ);
  if (r != 0) {
    printf("posix_spawn %s\n", errname(r));
    return 1;
  }
  int status;
  waitpid(pid, &status, 0);
  printf("status=%d\n", WEXITSTATUS(status));
  return 0;
}

static volatile sig_atomic_t handled;

static void
on_alarm(int sig)
{
  (void)sig;
  int saved = errno;
  close(-2);
  handled++;
  errno = saved;
}

static int
do_signals(long n)
{
  struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = { .it_interval = { 0, 1000 }, .it_value = { 0, 1000 } };
  setitimer(ITIMER_REAL, &it, NULL);
  for (long i = 0; i < n; i++)
    if (close(-1) != -1 || errno != EBADF) {
      printf("close(-1) went wrong at %ld\n", i);
      return 1;
    }
  struct itimerval off = { 0 };
  setitimer(ITIMER_REAL, &off, NULL);
  printf("handled=%d\n", (int)handled);
  return 0;
}

static void *
one_call(void *arg)
{
  (void)arg;
  close(-1);
  return NULL;
}

static long
rss_kb(void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
    return -1;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int
do_threads(long n)
{
  long early = 0;
  for (long i = 0; i < n; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, one_call, NULL) != 0 || pthread_join(t, NULL) != 0)
      return 1;
    if (i == n / 10)
      early = rss_kb();
  }
  printf("early=%ld late=%ld\n", early, rss_kb());
  return 0;
}

static int
do_timed_writes(long n)
{
  int fd = open("/dev/null", O_WRONLY);
  for (long i = 0; i < n; i++) {
    long long start = now_ns();
    if (write(fd, "x", 1) != 1)
      return 1;
    printf("%lld\n", now_ns() - start);
  }
  return 0;
}

static void *
read_all(void *arg)
{
  int fd = *(int *)arg;
  char buf[4096];
  while (read(fd, buf, sizeof buf) > 0)
    ;
  return NULL;
}

static int
do_read_threads(int argc, char **argv)
{
  if (argc != 4)
    return 2;
  int fds[2];
  fds[0] = open(argv[2], O_RDONLY);
  fds[1] = strcmp(argv[3], "same") == 0 ? fds[0] : open(argv[3], O_RDONLY);
  if (fds[0] < 0 || fds[1] < 0)
    return 1;
  long long start = now_ns();
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, read_all, &fds[i]);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  printf("ms=%lld\n", (now_ns() - start) / 1000000);
  return 0;
}

int
main(int argc, char **argv)
{
  const char *what = argc > 1 ? argv[1] : "";
  long n = argc > 2 ? atol(argv[2]) : 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (strcmp(what, "connect") == 0)
    return do_connect(argc, argv);
  if (strcmp(what, "fork") == 0)
    return do_fork();
  if (strcmp(what, "vfork") == 0)
    return do_vfork(argc, argv);
  if (strcmp(what, "spawn") == 0)
    return do_spawn(argc, argv);
  if (strcmp(what, "signals") == 0)
    return do_signals(n);
  if (strcmp(what, "threads") == 0)
    return do_threads(n);
  if (strcmp(what, "timed-writes") == 0)
    return do_timed_writes(n);
  if (strcmp(what, "read-threads") == 0)
    return do_read_threads(argc, argv);
  fprintf(stderr, "usage: promises connect|fork|vfork|spawn|signals|threads|timed-writes|read-threads ...\n");
  return 2;
}
