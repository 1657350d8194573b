/* Workload 10: many short processes, as a build or a shell script makes
 * them: `sh -c 'for i in $(seq N); do /bin/true; done'`, timed whole (per
 * process). shell_loop N */
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
  char *child[] = {"/bin/sh", "-c", script, NULL};
  if (run_child(child))
    return 1;
  report(now_ns() - start, n);
  return 0;
}
