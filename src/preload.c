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
#include <stdarg.h>
#include <sys/types.h>

#ifdef O_TMPFILE
#define HIJACK_NEEDS_MODE(flags) (((flags) & O_CREAT) || (((flags) & O_TMPFILE) == O_TMPFILE))
#else
#define HIJACK_NEEDS_MODE(flags) ((flags) & O_CREAT)
#endif

#define HIJACK_EXPAND(...) __VA_ARGS__

/* `... mode_t mode`: read only when the flags say a mode was passed. */
#define HIJACK_VARIADIC_MODE(ret, name, params, args, last)          \
  ret name params                                                    \
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

#include "calls.h"

void hijack_preload_init(void);

__attribute__((constructor)) static void
hijack_preload_constructor(void)
{
  hijack_preload_init();
}

#endif /* HIJACK_PRELOAD */
