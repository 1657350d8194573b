/* THREADS threads each write(2) N short lines to /dev/null. writers THREADS N */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long n;
static int fd;

static void *
work(void *arg)
{
  char line[64];
  int len = snprintf(line, sizeof line, "thread %ld says hello\n", (long)arg);
  for (long i = 0; i < n; i++)
    if (write(fd, line, (size_t)len) != len)
      exit(1);
  return NULL;
}

int
main(int argc, char **argv)
{
  long threads = argc > 1 ? atol(argv[1]) : 4;
  n = argc > 2 ? atol(argv[2]) : 100;
  fd = open("/dev/null", O_WRONLY);
  pthread_t t[16];
  if (fd < 0 || threads < 1 || threads > 16)
    return 2;
  for (long i = 0; i < threads; i++)
    pthread_create(&t[i], NULL, work, (void *)i);
  for (long i = 0; i < threads; i++)
    pthread_join(t[i], NULL);
  return 0;
}
