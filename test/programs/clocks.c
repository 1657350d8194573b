/* Prints what each clock call says: time, gettimeofday, clock_gettime
 * (REALTIME, REALTIME_COARSE) in whole seconds; then how long, on the
 * MONOTONIC clock and on the wall, a usleep(200000) took in milliseconds. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long
ms(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int
main(void)
{
  time_t t1;
  time_t t0 = time(&t1);
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct timespec rt, coarse;
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_REALTIME_COARSE, &coarse);
  printf("time=%lld tloc=%lld gettimeofday=%lld realtime=%lld coarse=%lld\n", (long long)t0, (long long)t1,
         (long long)tv.tv_sec, (long long)rt.tv_sec, (long long)coarse.tv_sec);
  long long m0 = ms(CLOCK_MONOTONIC);
  usleep(200000);
  long long m1 = ms(CLOCK_MONOTONIC);
  printf("monotonic_ms=%lld\n", m1 - m0);
  return 0;
}
