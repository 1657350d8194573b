/* The preload library's C part: the constructor that starts hijack in a
 * target process, and the shims of variadic functions (stable Rust cannot
 * define C-variadic functions; on arm64 macOS their tail is on the stack).
 *
 * Compiled only into libhijack.so (with -DHIJACK_PRELOAD, by mrbgem.rake):
 * inside libmruby.a, which the runner links, it is empty, so that the runner
 * never interposes its own calls. The shims themselves come from the call
 * table: build.rs writes calls.h, one HIJACK_VARIADIC_* line per function. */
#ifdef HIJACK_PRELOAD

#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#include <fcntl.h>
#include <alloca.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef O_TMPFILE
#define HIJACK_NEEDS_MODE(flags) (((flags) & O_CREAT) || (((flags) & O_TMPFILE) == O_TMPFILE))
#else
#define HIJACK_NEEDS_MODE(flags) ((flags) & O_CREAT)
#endif

#define HIJACK_EXPAND(...) __VA_ARGS__

#ifdef __APPLE__
/* dyld's interposing: each entry of __DATA,__interpose maps a libSystem
 * function to hijack's replacement, hijack_i_NAME (calls.h lists them). */
#define HIJACK_ENTRY(name) hijack_i_##name
struct hijack_interpose {
  const void *replacement;
  const void *replaced;
};
#define HIJACK_INTERPOSE(name, symbol)                                        \
  extern void hijack_entry_##name(void) __asm__("_hijack_i_" #name);         \
  extern void hijack_replaced_##name(void) __asm__(symbol);                   \
  __attribute__((used, section("__DATA,__interpose"))) static const struct   \
    hijack_interpose hijack_interpose_##name = {                             \
      (const void *)hijack_entry_##name, (const void *)hijack_replaced_##name \
    };
#else
/* On Linux the preload library defines the functions themselves. */
#define HIJACK_ENTRY(name) name
#endif

/* `... mode_t mode`: read only when the flags say a mode was passed. */
#define HIJACK_VARIADIC_MODE(ret, name, params, args, last)          \
  ret HIJACK_ENTRY(name) params                                      \
  {                                                                  \
    mode_t mode = 0;                                                 \
    if (HIJACK_NEEDS_MODE(last)) {                                   \
      va_list ap;                                                    \
      va_start(ap, last);                                            \
      mode = (mode_t)va_arg(ap, unsigned int);                       \
      va_end(ap);                                                    \
    }                                                                \
    return hijack_v_##name(HIJACK_EXPAND args, mode);                \
  }

/* `... long a1, ..., aN`: all N read (six for syscall(2), one for
 * fcntl's argument, whatever its type: an int or a pointer). */
#define HIJACK_VARIADIC_LONGS(ret, name, params, args, last, n, read) \
  ret HIJACK_ENTRY(name) params                                      \
  {                                                                  \
    long a[n];                                                       \
    va_list ap;                                                      \
    va_start(ap, last);                                              \
    for (int i = 0; i < n; i++)                                      \
      a[i] = va_arg(ap, long);                                       \
    va_end(ap);                                                      \
    return hijack_v_##name(HIJACK_EXPAND args, HIJACK_EXPAND read);  \
  }

/* execl's form: `arg, ...` up to a NULL, gathered into an argv on the
 * stack; for execle, envp follows the NULL. */
#define HIJACK_GATHER(arg, ap, argv)                                 \
  size_t n_ = 1;                                                     \
  va_list count_;                                                    \
  va_copy(count_, ap);                                               \
  if (arg != NULL)                                                   \
    while (va_arg(count_, const char *) != NULL)                     \
      n_++;                                                          \
  va_end(count_);                                                    \
  const char **argv = alloca((n_ + 1) * sizeof(const char *));       \
  argv[0] = arg;                                                     \
  if (arg != NULL)                                                   \
    for (size_t i_ = 1; i_ <= n_; i_++)                              \
      argv[i_] = va_arg(ap, const char *);                           \
  else                                                               \
    argv[1] = NULL

#define HIJACK_VARIADIC_LIST(ret, name)                              \
  ret HIJACK_ENTRY(name)(const char *path, const char *arg, ...)     \
  {                                                                  \
    va_list ap;                                                      \
    va_start(ap, arg);                                               \
    HIJACK_GATHER(arg, ap, argv);                                    \
    va_end(ap);                                                      \
    return hijack_v_##name(path, (char *const *)argv);               \
  }

#define HIJACK_VARIADIC_LIST_ENV(ret, name)                          \
  ret HIJACK_ENTRY(name)(const char *path, const char *arg, ...)     \
  {                                                                  \
    va_list ap;                                                      \
    va_start(ap, arg);                                               \
    HIJACK_GATHER(arg, ap, argv);                                    \
    char *const *envp = va_arg(ap, char *const *);                   \
    va_end(ap);                                                      \
    return hijack_v_##name(path, (char *const *)argv, envp);         \
  }

#include "calls.h"

void hijack_preload_init(void);

__attribute__((constructor)) static void
hijack_preload_constructor(void)
{
  hijack_preload_init();
}

#endif /* HIJACK_PRELOAD */
