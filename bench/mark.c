/* The coverage benchmark's marker (bench/coverage.rb): preloaded into a
 * bare run under strace, its constructor makes one system call strace shows
 * recognisably, where hijack's constructor would run. What strace shows
 * after it is what `hijack run --all-syscalls` should see. Like hijack's
 * constructor, it allocates first: the allocator's first use makes calls of
 * its own (getrandom), which the program then does not make. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((constructor)) static void hijack_coverage_mark(void) {
  void *volatile first = malloc(64); /* (volatile: kept at -O2) */
  free(first);
  syscall(SYS_faccessat, AT_FDCWD, "/hijack-coverage-mark", F_OK);
}
