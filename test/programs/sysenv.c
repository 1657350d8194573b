/* Threads reading the environment while another thread runs system() and
 * popen(): hijack's exec following must never change this process's own
 * environment (setenv under readers is a data race that can crash).
 *
 *   sysenv N     unsets LD_PRELOAD and HIJACK_*, starts 8 getenv threads,
 *                runs `exit K` through system() N times (K = i % 7, each
 *                status checked) and `echo` through popen() N/10 times,
 *                then prints what a child saw of LD_PRELOAD (hooked, or not)
 *                and whether this process's environment changed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static volatile int done;

static void *reader(void *arg) {
  (void)arg;
  unsigned long n = 0;
  while (!done) {
    for (char **e = environ; *e; e++) n += strlen(*e);
    if (getenv("LD_PRELOAD") || getenv("HIJACK_SCRIPT") || getenv("HIJACK_EVAL")) n++;
  }
  return (void *)n;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  unsetenv("LD_PRELOAD");
  for (char **e = environ; *e;) {
    if (!strncmp(*e, "HIJACK_", 7)) {
      char name[256];
      snprintf(name, sizeof name, "%.*s", (int)(strchr(*e, '=') - *e), *e);
      unsetenv(name);
    } else {
      e++;
    }
  }
  pthread_t t[8];
  for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, reader, NULL);
  int bad = 0;
  for (int i = 0; i < n; i++) {
    char cmd[64];
    snprintf(cmd, sizeof cmd, "exit %d", i % 7);
    int st = system(cmd);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != i % 7) bad++;
  }
  for (int i = 0; i < n / 10; i++) {
    FILE *p = popen("echo popen-works", "r");
    char line[64] = "";
    if (!p || !fgets(line, sizeof line, p) || strcmp(line, "popen-works\n")) bad++;
    if (!p || pclose(p) != 0) bad++;
  }
  done = 1;
  for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
  printf("bad statuses: %d\n", bad);
  printf("own environment has LD_PRELOAD: %s\n", getenv("LD_PRELOAD") ? "yes" : "no");
  fflush(stdout);
  FILE *p = popen("echo \"child LD_PRELOAD set: ${LD_PRELOAD:+yes}\"", "r");
  char line[256] = "";
  if (p && fgets(line, sizeof line, p)) fputs(line, stdout);
  if (p) pclose(p);
  return 0;
}
