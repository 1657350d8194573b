/* Workload 4: N x fork + exec of PROGRAM (a tiny one), waiting for each:
 * what the preload library and a hook script cost every process.
 * spawn PROGRAM N */
#include "common.h"

int
main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  long n = atol(argv[2]);
  long long start = now_ns();
  char *child[] = {argv[1], NULL};
  for (long i = 0; i < n; i++)
    if (run_child(child))
      return 1;
  report(now_ns() - start, n);
  return 0;
}
