/* Two threads make close(-1) calls without end while the main thread
 * forks FORKS children, each making CALLS close(-1) calls of its own and
 * exiting; prints how many children exited 0. A child that inherited a
 * lock held by one of the busy threads would hang. fork_busy FORKS CALLS */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *
busy(void *arg)
{
  (void)arg;
  for (;;)
    close(-1);
  return NULL;
}

int
main(int argc, char **argv)
{
  long forks = argc > 1 ? atol(argv[1]) : 100;
  long calls = argc > 2 ? atol(argv[2]) : 10;
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, busy, NULL) != 0)
      return 1;
  long fine = 0;
  for (long i = 0; i < forks; i++) {
    pid_t pid = fork();
    if (pid < 0)
      return 1;
    if (pid == 0) {
      for (long j = 0; j < calls; j++)
        close(-1);
      _exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      fine++;
  }
  printf("%ld\n", fine);
  fflush(stdout);
  _exit(0);
}
