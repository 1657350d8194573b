/* Workload 10: many short processes, as a build or a shell script makes
 * them: `sh -c 'for i in $(seq N); do /bin/true; done'`, timed whole (per
 * process). shell_loop N */
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"

int
main(int argc, char **argv)
{
  if (argc != 2)
    return 2;
  long n = atol(argv[1]);
  char script[128];
  snprintf(script, sizeof script, "for i in $(seq %ld); do /bin/true; done", n);
  long long start = now_ns();
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", script, (char *)NULL);
    _exit(127);
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return 1;
  report(now_ns() - start, n);
  return 0;
}
