/* Workload 2: N x close(-1), the cost of the machinery per call. hot N */
#include <unistd.h>
#include "common.h"

int
main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  long long start = now_ns();
  for (long i = 0; i < n; i++)
    close(-1);
  report(now_ns() - start, n);
  return 0;
}
