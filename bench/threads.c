/* Workload 5: THREADS threads each doing workload 1 (N iterations) on a
 * file of its own. threads DIR THREADS N */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include "common.h"

static const char *dir;
static long n;

static void *
work(void *arg)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/my_file_%ld", dir, (long)arg);
  for (long i = 0; i < n; i++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "hello!", 6) != 6)
      exit(1);
    close(fd);
  }
  return NULL;
}

int
main(int argc, char **argv)
{
  if (argc != 4)
    return 2;
  dir = argv[1];
  long threads = atol(argv[2]);
  n = atol(argv[3]);
  pthread_t t[64];
  if (threads < 1 || threads > 64)
    return 2;
  long long start = now_ns();
  for (long i = 0; i < threads; i++)
    pthread_create(&t[i], NULL, work, (void *)i);
  for (long i = 0; i < threads; i++)
    pthread_join(t[i], NULL);
  report(now_ns() - start, threads * n);
  return 0;
}
