/* clone() as glibc exports it, then fork(): `clones FILE` clones a copy of
 * the process (SIGCHLD only), `clones FILE vm` a child sharing the memory
 * (CLONE_VM|CLONE_VFORK, as posix_spawn does). The child reads FILE and
 * ends by returning 7 from its function; the fork child ends in _exit(3). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[65536] __attribute__((aligned(16)));

static int child(void *path) {
  char buf[64];
  int fd = open((const char *)path, O_RDONLY);
  int n = fd < 0 ? -1 : (int)read(fd, buf, sizeof buf);
  if (fd >= 0)
    close(fd);
  printf("child read %d\n", n);
  fflush(stdout);
  return 7;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  int flags = SIGCHLD | (argc > 2 ? CLONE_VM | CLONE_VFORK : 0);
  int pid = clone(child, stack + sizeof stack, flags, argv[1]);
  if (pid < 0) {
    perror("clone");
    return 1;
  }
  int status;
  waitpid(pid, &status, 0);
  printf("clone child: %d\n", WEXITSTATUS(status));
  fflush(stdout);
  pid = fork();
  if (pid == 0)
    _exit(3);
  waitpid(pid, &status, 0);
  printf("fork child: %d\n", WEXITSTATUS(status));
  return 0;
}
