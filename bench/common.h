/* Shared by the benchmark workloads: each times its own loop and prints
 * one line, `ns=<loop nanoseconds> n=<operations> rss_kb=<resident KiB>`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long
rss_kb(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0)
      kb = atol(line + 6);
  if (f)
    fclose(f);
  return kb;
}

/* Runs argv[0] (a path) with argv in a child and waits for it: 0 when it
 * exited with status 0. (fork + exec + wait: the workloads of processes) */
static int __attribute__((unused))
run_child(char *const argv[])
{
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv);
    _exit(127);
  }
  int status;
  return pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static void
report(long long ns, long n)
{
  printf("ns=%lld n=%ld rss_kb=%ld\n", ns, n, rss_kb());
}
