/* Allocates N blocks, checking each: prints how many it got and exits 3
 * when one was refused (a clean NULL check). allocate N */
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 100;
  for (long i = 0; i < n; i++) {
    if (malloc(64 + (size_t)i) == NULL) {
      printf("allocation %ld refused\n", i);
      return 3;
    }
  }
  printf("all %ld allocations\n", n);
  return 0;
}
