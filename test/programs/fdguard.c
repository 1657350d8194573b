/* A program that acts on descriptor numbers it never opened, as daemons,
 * closefrom() and subprocess's close_fds do. Each argument is one action;
 * after each, it writes a data file (dataNN, "DATA\n") through a fresh
 * descriptor. It prints what each action returned, so that a hooked run can
 * be compared with a bare one line by line.
 *
 *   closeall       close(3..1023), then 20 data files opened at once
 *   close:N        close(N)
 *   dup2:N         dup2(a data file, N), write "DUP\n" through N, close N
 *   dup3:N         the same with dup3(..., O_CLOEXEC)
 *   dupfd:N        fcntl(a data file, F_DUPFD, N); write through the result
 *   getfd:N        fcntl(N, F_GETFD)
 *   close_range    close_range(3, ~0U, 0)
 *   sys_close_range  syscall(SYS_close_range, 3, ~0U, 0)
 *   closefrom      closefrom(3)
 *   nofile:N       setrlimit(RLIMIT_NOFILE) with a soft limit of N
 *   stderr         close(2), then a data file opened (it gets 2)
 *   list           print the open descriptors above 2 (from /proc/self/fd),
 *                  each with "cloexec" when it has FD_CLOEXEC
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int serial;

static int data_file(void) {
  char name[32];
  snprintf(name, sizeof name, "data%02d", serial++);
  return open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
}

static void report(const char *what, long r) {
  if (r < 0)
    printf("%s = %ld %s\n", what, r, strerror(errno));
  else
    printf("%s = %ld\n", what, r);
  fflush(stdout);
}

static void list(void) {
  DIR *d = opendir("/proc/self/fd");
  int mine = dirfd(d), seen[4096], n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 4096) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] != '.' && fd > 2 && fd != mine) seen[n++] = fd;
  }
  for (int i = 0; i < n; i++) {
    /* the flags from /proc (fcntl on a number would be an act on it) */
    char path[64], line[128];
    long flags = 0;
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", seen[i]);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
      if (!strncmp(line, "flags:", 6)) flags = strtol(line + 6, NULL, 8);
    if (f) fclose(f);
    printf("open %d%s\n", seen[i], flags & O_CLOEXEC ? " cloexec" : "");
  }
  closedir(d);
  fflush(stdout);
}

static void write_one(void) {
  int fd = data_file();
  if (write(fd, "DATA\n", 5) != 5) perror("write");
  close(fd);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *colon = strchr(a, ':');
    int n = colon ? atoi(colon + 1) : 0;
    if (!strcmp(a, "closeall")) {
      int fds[20];
      for (int fd = 3; fd < 1024; fd++) close(fd);
      for (int k = 0; k < 20; k++) fds[k] = data_file();
      for (int k = 0; k < 20; k++) {
        if (write(fds[k], "DATA\n", 5) != 5) perror("write");
        close(fds[k]);
      }
      report("closeall", 0);
    } else if (!strncmp(a, "close:", 6)) {
      report(a, close(n));
    } else if (!strncmp(a, "dup2:", 5) || !strncmp(a, "dup3:", 5)) {
      int fd = data_file();
      int r = a[3] == '2' ? dup2(fd, n) : dup3(fd, n, O_CLOEXEC);
      report(a, r);
      if (r >= 0) {
        report("write to it", write(r, "DUP\n", 4));
        close(r);
      }
      close(fd);
    } else if (!strncmp(a, "dupfd:", 6)) {
      int fd = data_file();
      int r = fcntl(fd, F_DUPFD, n);
      report(a, r);
      if (r >= 0) {
        report("write to it", write(r, "DUPFD\n", 6));
        close(r);
      }
      close(fd);
    } else if (!strncmp(a, "getfd:", 6)) {
      report(a, fcntl(n, F_GETFD));
    } else if (!strcmp(a, "close_range")) {
      report(a, close_range(3, ~0U, 0));
    } else if (!strcmp(a, "sys_close_range")) {
      report(a, syscall(SYS_close_range, 3, ~0U, 0));
    } else if (!strcmp(a, "closefrom")) {
      closefrom(3);
      report(a, 0);
    } else if (!strncmp(a, "nofile:", 7)) {
      struct rlimit rl;
      getrlimit(RLIMIT_NOFILE, &rl);
      rl.rlim_cur = n;
      report(a, setrlimit(RLIMIT_NOFILE, &rl));
    } else if (!strcmp(a, "stderr")) {
      report("close(2)", close(2));
      int fd = data_file();
      report("data file on", fd);
      if (write(fd, "DATA\n", 5) != 5) perror("write");
      close(fd);
      continue;
    } else if (!strcmp(a, "list")) {
      list();
      continue;
    } else {
      fprintf(stderr, "fdguard: unknown action %s\n", a);
      return 2;
    }
    write_one();
  }
  return 0;
}
