/* The cost of a process's first hooked call, and of a thread's: the VM
 * hijack opens for it (and, in a process an exec started, the scripts it
 * runs then), timed around that one call.
 *   first_call process N   N children exec'd in turn, each timing its
 *                          first close(-1) (sent back through a pipe)
 *   first_call thread N    N threads in turn, each timing its first
 *                          close(-1) (each exits before the next starts:
 *                          the VM it leaves is the next one's)
 *   first_call alive N     the same, but every thread lives until the
 *                          last has made its call: each opens a VM of
 *                          its own
 * Prints the sum of the timed calls over N (common.h's line). */
#include <pthread.h>
#include <semaphore.h>
#include "common.h"

static sem_t timed, release;

static long long
timed_close(void)
{
  long long t0 = now_ns();
  close(-1);
  return now_ns() - t0;
}

static void *
thread_main(void *out)
{
  *(long long *)out = timed_close();
  return NULL;
}

static void *
alive_main(void *out)
{
  *(long long *)out = timed_close();
  sem_post(&timed);
  sem_wait(&release);
  return NULL;
}

int
main(int argc, char **argv)
{
  if (argc == 3 && strcmp(argv[1], "child") == 0) {
    long long t = timed_close();
    int fd = atoi(argv[2]);
    return write(fd, &t, sizeof t) == (ssize_t)sizeof t ? 0 : 1;
  }
  if (argc != 3)
    return 2;
  long n = atol(argv[2]);
  long long sum = 0;
  if (strcmp(argv[1], "process") == 0) {
    int p[2];
    if (pipe(p) != 0)
      return 1;
    char fd[16];
    snprintf(fd, sizeof fd, "%d", p[1]);
    char *child[] = { argv[0], "child", fd, NULL };
    for (long i = 0; i < n; i++) {
      long long t;
      if (run_child(child) != 0 || read(p[0], &t, sizeof t) != (ssize_t)sizeof t)
        return 1;
      sum += t;
    }
  } else if (strcmp(argv[1], "thread") == 0) {
    for (long i = 0; i < n; i++) {
      long long t = 0;
      pthread_t th;
      if (pthread_create(&th, NULL, thread_main, &t) != 0 || pthread_join(th, NULL) != 0)
        return 1;
      sum += t;
    }
  } else if (strcmp(argv[1], "alive") == 0) {
    pthread_t *th = calloc((size_t)n, sizeof *th);
    long long *t = calloc((size_t)n, sizeof *t);
    if (th == NULL || t == NULL || sem_init(&timed, 0, 0) != 0 || sem_init(&release, 0, 0) != 0)
      return 1;
    for (long i = 0; i < n; i++) {
      if (pthread_create(&th[i], NULL, alive_main, &t[i]) != 0)
        return 1;
      sem_wait(&timed);
      sum += t[i];
    }
    for (long i = 0; i < n; i++)
      sem_post(&release);
    for (long i = 0; i < n; i++)
      pthread_join(th[i], NULL);
  } else {
    return 2;
  }
  report(sum, n);
  return 0;
}
