/* THREADS threads one after another (each exits before the next starts),
 * each making CALLS close(-1) calls; each prints one line: a character per
 * call, 'x' when it failed with EIO (a fault), '.' otherwise.
 * threads_in_turn THREADS CALLS */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long calls;

static void *
work(void *arg)
{
  (void)arg;
  char line[1024];
  long n = calls < (long)sizeof line - 1 ? calls : (long)sizeof line - 1;
  for (long i = 0; i < n; i++)
    line[i] = close(-1) == -1 && errno == EIO ? 'x' : '.';
  line[n] = '\0';
  puts(line);
  fflush(stdout);
  return NULL;
}

int
main(int argc, char **argv)
{
  long threads = argc > 1 ? atol(argv[1]) : 4;
  calls = argc > 2 ? atol(argv[2]) : 10;
  for (long i = 0; i < threads; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, work, NULL) != 0 || pthread_join(t, NULL) != 0)
      return 1;
  }
  return 0;
}
