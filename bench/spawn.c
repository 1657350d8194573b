/* Workload 4: N x fork + exec of PROGRAM (a tiny one), waiting for each:
 * what the preload library and a hook script cost every process.
 * spawn PROGRAM N */
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"

int
main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  long n = atol(argv[2]);
  long long start = now_ns();
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      execl(argv[1], argv[1], (char *)NULL);
      _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return 1;
  }
  report(now_ns() - start, n);
  return 0;
}
