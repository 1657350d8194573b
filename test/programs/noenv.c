/* noenv PROGRAM [ARGS...]: runs PROGRAM with an empty environment (like
 * `env -i`), built for the target under test. */
#include <stdio.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: noenv PROGRAM [ARGS...]\n");
    return 2;
  }
  char *empty[] = {NULL};
  execve(argv[1], argv + 1, empty);
  perror("noenv");
  return 127;
}
