/* Syscall User Dispatch's fast path (hijack run --all-syscalls, Linux
 * x86_64): a system-call site the program keeps making calls from is
 * rewritten to call hijack directly, without the SIGSYS round trip.
 *
 * - Which sites: `mov $NR, %eax; syscall` (b8 imm32 0f 05), the C library's
 *   and Go's runtime's common form, where NR is the number the call had,
 *   in an object the loader mapped (a PT_LOAD segment r-x, not the loader's
 *   own nor the vDSO), after REWRITE_AFTER calls from it through SIGSYS.
 *   The calls that need the signal frame (src/entry/raw.rs says which:
 *   rt_sigreturn, clone, sigaltstack...) keep coming through SIGSYS.
 * - The rewrite: the 5-byte mov becomes `jmp TRAMPOLINE`; the `syscall`
 *   after it stays, so a thread that was between the two still makes its
 *   call (through SIGSYS). A trampoline (within 2 GiB of the site) does the
 *   mov, then jumps to hijack_sud_fast in the allowed range. The bytes are
 *   changed as the kernel patches its own text: a `jmp .` first (a thread
 *   arriving meanwhile waits there), the rest, then the first two bytes,
 *   each step followed by a core-serializing membarrier; signals blocked,
 *   a fork waiting for the end (hijack_sud_rewrites_hold).
 * - hijack_sud_fast: on hijack's own stack (the thread's, src/sud.c),
 *   with the vector and FPU state saved (XSAVE) and the program's flags,
 *   the call goes to the same Rust as the SIGSYS handler's; a call no hook
 *   wants is made from the allowed range; RCX and R11 are left as the
 *   kernel leaves them (the return address, the flags). Where it cannot
 *   (no own stack yet, nested in a hook, hijack's own code reaching a
 *   rewritten site with the selector at ALLOW) it makes the call the way
 *   it would have been made.
 *
 * HIJACK_ALL_SYSCALLS=sigsys keeps every call on the SIGSYS path (no code
 * of the program's is changed). Compiled only into libhijack.so. */
#if defined(HIJACK_PRELOAD) && defined(__linux__) && defined(__x86_64__)

#define _GNU_SOURCE
#include <cpuid.h>
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/auxv.h>

#define SUD_ALLOW 0
#define SUD_BLOCK 1
#define SUD_STACK (256 * 1024)
#define SUD_PASS (-0x7fffffffffffffffL - 1)

extern __thread volatile char hijack_sud_selector __attribute__((tls_model("initial-exec")));
extern __thread char *hijack_sud_stack __attribute__((tls_model("initial-exec")));
extern __thread unsigned int hijack_sud_depth __attribute__((tls_model("initial-exec")));
extern char __start_hijack_sud[], __stop_hijack_sud[];
long hijack_sud_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

/* Rust's side (src/entry/raw.rs): the call, and whether a call can be made
 * without a signal frame. */
extern long hijack_sud_call(long nr, long *args, void *uc);
extern int hijack_sud_fast_ok(long nr);
extern int hijack_sud_wanted(long nr, const long *args);

/* A trampoline (one slot of a page of them):
 *    0  b8 imm32        mov $NR, %eax        (the site's own instruction)
 *    5  48 8d 0d f4..   lea 0(%rip - 12), %rcx   (this trampoline)
 *   12  ff 25 0e 00..   jmp *32(trampoline)  (hijack_sud_fast)
 *   18  0f 05           syscall              (the SIGSYS path, outside the range)
 *   20  ff 25 0e 00..   jmp *40(trampoline)  (back after the site's syscall)
 *   32  .quad hijack_sud_fast
 *   40  .quad the site's return address */
#define SLOT 64
#define SLOT_SYSCALL 18
#define SLOT_RETURN 40
#define PAGE 4096
#define PAGES 64

void hijack_sud_fast(void);
long hijack_sud_fast_call(long *frame);

__asm__(
    ".pushsection hijack_sud,\"ax\",@progbits\n"
    ".p2align 4\n"
    /* Entered from a trampoline: RAX the number, RCX the trampoline, the
     * arguments in the kernel's registers, the program's stack (its red
     * zone skipped) and flags. */
    ".globl hijack_sud_fast\n"
    ".hidden hijack_sud_fast\n"
    ".type hijack_sud_fast,@function\n"
    "hijack_sud_fast:\n"
    "  lea -128(%rsp), %rsp\n"
    "  pushfq\n"
    "  push %rcx\n"
    "  cld\n"
    "  mov hijack_sud_selector@gottpoff(%rip), %r11\n"
    "  cmpb $1, %fs:(%r11)\n"
    "  jne 3f\n"                  /* hijack's own code: the call as is */
    "  mov hijack_sud_depth@gottpoff(%rip), %r11\n"
    "  cmpl $0, %fs:(%r11)\n"
    "  jne 4f\n"                  /* inside a hook already: through SIGSYS */
    "  mov hijack_sud_stack@gottpoff(%rip), %r11\n"
    "  mov %fs:(%r11), %r11\n"
    "  test %r11, %r11\n"
    "  jz 4f\n"                   /* no own stack yet: SIGSYS makes it */
    "  mov hijack_sud_depth@gottpoff(%rip), %rcx\n"
    "  movl $1, %fs:(%rcx)\n"
    "  add $262144, %r11\n"       /* the top of the own stack (SUD_STACK) */
    "  mov %rsp, -8(%r11)\n"
    "  lea -8(%r11), %rsp\n"
    "  push %r9\n"
    "  push %r8\n"
    "  push %r10\n"
    "  push %rdx\n"
    "  push %rsi\n"
    "  push %rdi\n"
    "  push %rax\n"               /* frame: number, six arguments (16-aligned) */
    "  mov %rsp, %rdi\n"
    "  call hijack_sud_fast_call\n"
    "  pop %r11\n"
    "  pop %rdi\n"
    "  pop %rsi\n"
    "  pop %rdx\n"
    "  pop %r10\n"
    "  pop %r8\n"
    "  pop %r9\n"
    "  mov (%rsp), %rsp\n"        /* the program's stack again */
    "  mov hijack_sud_depth@gottpoff(%rip), %rcx\n"
    "  movl $0, %fs:(%rcx)\n"
    "  movabs $0x8000000000000000, %rcx\n"
    "  cmp %rcx, %rax\n"
    "  jne 5f\n"
    "  mov %r11, %rax\n"          /* no hook wants it: made here */
    "3:\n"
    "  syscall\n"
    "5:\n"
    "  pop %rcx\n"
    "  mov 40(%rcx), %rcx\n"      /* SLOT_RETURN */
    "  mov (%rsp), %r11\n"
    "  popfq\n"
    "  lea 128(%rsp), %rsp\n"
    "  jmp *%rcx\n"
    "4:\n"
    "  pop %rcx\n"
    "  popfq\n"
    "  lea 128(%rsp), %rsp\n"
    "  lea 18(%rcx), %rcx\n"      /* SLOT_SYSCALL */
    "  jmp *%rcx\n"
    ".popsection\n");

/* How the vector and FPU state is saved around hijack's code: XSAVE of
 * every enabled component (or FXSAVE), its size. */
static int use_xsave;
static unsigned int save_size = 512;

/* hijack_sud_fast's call, on the thread's own stack: frame[0] the number,
 * frame[1..6] the arguments. The raw result, or SUD_PASS (the program
 * makes the call). */
long hijack_sud_fast_call(long *frame) {
  /* (a call nothing of hijack's wants: made by the program, no state
   * saved) */
  if (!hijack_sud_wanted(frame[0], frame + 1))
    return SUD_PASS;
  char *area = __builtin_alloca(save_size + 64);
  area = (char *)(((uintptr_t)area + 63) & ~(uintptr_t)63);
  if (use_xsave) {
    /* (XSAVE writes only the first word of the area's header; XRSTOR
     * faults on anything but zero in the rest, which the stack may hold
     * from an earlier signal frame) */
    for (int i = 0; i < 8; i++)
      ((volatile uint64_t *)(area + 512))[i] = 0;
    __asm__ volatile("xsave64 (%0)" ::"r"(area), "a"(-1), "d"(-1) : "memory");
  }
  else
    __asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
  hijack_sud_selector = SUD_ALLOW;
  long r = hijack_sud_call(frame[0], frame + 1, 0);
  hijack_sud_selector = SUD_BLOCK;
  if (use_xsave)
    __asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"(-1), "d"(-1) : "memory");
  else
    __asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
  return r;
}

/* --- the rewriting ----------------------------------------------------- */

#define REWRITE_AFTER 8
#define SITES 1024
static struct site {
  uintptr_t at;
  unsigned int hits;
  unsigned char state; /* 0 counting, 1 being rewritten, 2 rewritten or refused */
} sites[SITES];

static int rewriting;           /* on for this process */
static volatile char busy;      /* a rewrite (or a fork) in progress */
static long registered_pid;     /* the process that registered the membarrier */
static uintptr_t loader_base, vdso_base;
static struct {
  unsigned char *base;
  unsigned int used;
} pages[PAGES];
static unsigned int npages;

#define NR_MMAP 9
#define NR_MPROTECT 10
#define NR_MUNMAP 11
#define NR_RT_SIGPROCMASK 14
#define NR_GETPID 39
#define NR_MEMBARRIER 324
#define MEMBARRIER_PRIVATE_EXPEDITED_SYNC_CORE 32
#define MEMBARRIER_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE 64
#define MAP_FIXED_NOREPLACE_ 0x100000

/* Turns the fast path on for this process (from dispatch's start). */
void hijack_sud_rewrite_start(void) {
  unsigned int a, b, c, d;
  if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 27)) /* OSXSAVE */ && __get_cpuid_count(0xd, 0, &a, &b, &c, &d) && b >= 576) {
    use_xsave = 1;
    save_size = b;
  }
  loader_base = getauxval(AT_BASE);
  vdso_base = getauxval(AT_SYSINFO_EHDR);
  rewriting = 1;
}

/* A fork waits for a rewrite in progress to end (a child must not inherit
 * a site half changed), and none starts until it is made. */
void hijack_sud_rewrites_hold(void) {
  if (!rewriting)
    return;
  while (__atomic_test_and_set(&busy, __ATOMIC_ACQUIRE))
    __builtin_ia32_pause();
}

void hijack_sud_rewrites_release(void) {
  if (rewriting)
    __atomic_clear(&busy, __ATOMIC_RELEASE);
}

static int sync_cores(void) {
  return hijack_sud_syscall(NR_MEMBARRIER, MEMBARRIER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0, 0, 0, 0) == 0;
}

/* Whether [lo, hi) lies in a read-only executable segment of an object the
 * loader mapped (not the loader's own, not the vDSO). */
struct query {
  uintptr_t lo, hi;
  int ok;
};

static int segment_of(struct dl_phdr_info *info, size_t size, void *data) {
  struct query *q = data;
  (void)size;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type != PT_LOAD || q->lo < start || q->hi > start + ph->p_memsz)
      continue;
    uintptr_t phdrs = (uintptr_t)info->dlpi_phdr;
    int vdso = vdso_base && phdrs >= vdso_base && phdrs < vdso_base + PAGE;
    q->ok = (ph->p_flags & PF_X) && (ph->p_flags & PF_R) && !(ph->p_flags & PF_W) && !vdso &&
            !(loader_base && info->dlpi_addr == loader_base);
    return 1;
  }
  return 0;
}

/* A trampoline slot within 1 GiB of `near` (its page writable), or 0. */
static unsigned char *slot_near(uintptr_t near) {
  for (unsigned int i = 0; i < npages; i++) {
    intptr_t d = (intptr_t)((uintptr_t)pages[i].base - near);
    if (pages[i].used < PAGE / SLOT && d > -(1L << 30) && d < (1L << 30)) {
      unsigned char *p = pages[i].base;
      if (hijack_sud_syscall(NR_MPROTECT, (long)p, PAGE, 7 /* rwx */, 0, 0, 0) != 0)
        return 0;
      return p + SLOT * pages[i].used++;
    }
  }
  if (npages == PAGES)
    return 0;
  static const long distances[] = {1L << 24, 1L << 26, 1L << 28, 1L << 29, 1L << 30};
  for (unsigned int i = 0; i < 2 * sizeof distances / sizeof *distances; i++) {
    long d = distances[i / 2];
    uintptr_t hint = ((i & 1) ? near + d : near - d) & ~(uintptr_t)(PAGE - 1);
    long p = hijack_sud_syscall(NR_MMAP, (long)hint, PAGE, 3 /* rw */, 0x22 | MAP_FIXED_NOREPLACE_, -1, 0);
    if (p < 0 && p > -4096)
      continue;
    if ((uintptr_t)p != hint) {
      /* (a kernel without MAP_FIXED_NOREPLACE took it for a hint) */
      intptr_t off = (intptr_t)((uintptr_t)p - near);
      if (off <= -(1L << 30) || off >= (1L << 30)) {
        hijack_sud_syscall(NR_MUNMAP, p, PAGE, 0, 0, 0, 0);
        continue;
      }
    }
    pages[npages].base = (unsigned char *)p;
    pages[npages].used = 1;
    return (unsigned char *)pages[npages++].base;
  }
  return 0;
}

static int in_trampolines(uintptr_t a) {
  for (unsigned int i = 0; i < npages; i++)
    if (a >= (uintptr_t)pages[i].base && a < (uintptr_t)pages[i].base + PAGE)
      return 1;
  return 0;
}

static void put32(unsigned char *p, uint32_t v) {
  __builtin_memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v) {
  __builtin_memcpy(p, &v, 8);
}

/* The site whose syscall instruction ends at `a` (its mov at a - 7),
 * rewritten to jump to a trampoline: 1 done or refused for good, 0 to be
 * tried again (another rewrite was in progress). */
static int rewrite(uintptr_t a, long nr) {
  unsigned char *p = (unsigned char *)a - 7;
  uint32_t imm;
  if ((uintptr_t)p >= (uintptr_t)__start_hijack_sud && (uintptr_t)p < (uintptr_t)__stop_hijack_sud)
    return 1;
  if (__atomic_test_and_set(&busy, __ATOMIC_ACQUIRE))
    return 0;
  unsigned long all = ~0UL, mask;
  hijack_sud_syscall(NR_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, (long)&all, (long)&mask, 8, 0, 0);
  struct query q = {(uintptr_t)p - 1, a, 0};
  if (in_trampolines(a) || !dl_iterate_phdr(segment_of, &q) || !q.ok)
    goto out;
  __builtin_memcpy(&imm, p + 1, 4);
  /* the pattern (and a byte before the mov that is not a prefix of it nor
   * the end of a longer instruction ending in the same bytes: a REX
   * prefix or ModRM 0x40-0x4f, 0x66/0x67, a SIB 0x24, segment and
   * repeat prefixes) */
  unsigned char before = p[-1];
  if (p[0] != 0xb8 || imm != (uint32_t)nr || p[5] != 0x0f || p[6] != 0x05 || (before & 0xf0) == 0x40 || before == 0x66 ||
      before == 0x67 || before == 0x24 || before == 0xf2 || before == 0xf3 || before == 0x26 || before == 0x2e || before == 0x36 ||
      before == 0x3e || before == 0x64 || before == 0x65)
    goto out;
  /* (the first two bytes in one cache line: their store is seen whole) */
  if (((uintptr_t)p & 63) == 63)
    goto out;
  long pid = hijack_sud_syscall(NR_GETPID, 0, 0, 0, 0, 0, 0);
  if (registered_pid != pid) {
    if (hijack_sud_syscall(NR_MEMBARRIER, MEMBARRIER_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0, 0, 0, 0) != 0) {
      rewriting = 0;
      goto out;
    }
    registered_pid = pid;
  }
  /* (within 1 GiB of the site: the jump's reach) */
  unsigned char *t = slot_near(a);
  if (!t)
    goto out;
  intptr_t rel = (intptr_t)t - (intptr_t)(p + 5);
  __builtin_memcpy(t, p, 5);
  static const unsigned char code[] = {0x48, 0x8d, 0x0d, 0xf4, 0xff, 0xff, 0xff, 0xff, 0x25, 0x0e, 0x00, 0x00, 0x00,
                                       0x0f, 0x05, 0xff, 0x25, 0x0e, 0x00, 0x00, 0x00, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc};
  __builtin_memcpy(t + 5, code, sizeof code);
  put64(t + 32, (uint64_t)(uintptr_t)hijack_sud_fast);
  put64(t + SLOT_RETURN, a);
  uintptr_t page = (uintptr_t)t & ~(uintptr_t)(PAGE - 1);
  hijack_sud_syscall(NR_MPROTECT, (long)page, PAGE, 5 /* r-x */, 0, 0, 0);
  /* the site's page(s) writable for a moment */
  uintptr_t lo = (uintptr_t)p & ~(uintptr_t)(PAGE - 1), hi = ((uintptr_t)p + 5 + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
  if (hijack_sud_syscall(NR_MPROTECT, (long)lo, (long)(hi - lo), 7 /* rwx */, 0, 0, 0) != 0)
    goto out;
  unsigned char jmp[5] = {0xe9};
  put32(jmp + 1, (uint32_t)rel);
  uint16_t head, wait = 0xfeeb; /* jmp . */
  __builtin_memcpy(&head, jmp, 2);
  __atomic_store_n((volatile uint16_t *)p, wait, __ATOMIC_SEQ_CST);
  sync_cores();
  __builtin_memcpy(p + 2, jmp + 2, 3);
  sync_cores();
  __atomic_store_n((volatile uint16_t *)p, head, __ATOMIC_SEQ_CST);
  sync_cores();
  hijack_sud_syscall(NR_MPROTECT, (long)lo, (long)(hi - lo), 5 /* r-x */, 0, 0, 0);
out:
  hijack_sud_syscall(NR_RT_SIGPROCMASK, 2, (long)&mask, 0, 8, 0, 0);
  __atomic_clear(&busy, __ATOMIC_RELEASE);
  return 1;
}

/* A call came through SIGSYS from the site ending at `a`: counted, and
 * rewritten once it has made REWRITE_AFTER calls. */
void hijack_sud_site(uintptr_t a, long nr) {
  if (!rewriting || !hijack_sud_fast_ok(nr))
    return;
  uintptr_t h = (a * 0x9e3779b97f4a7c15UL) >> 54;
  for (unsigned int i = 0; i < 16; i++) {
    struct site *s = &sites[(h + i) & (SITES - 1)];
    uintptr_t at = __atomic_load_n(&s->at, __ATOMIC_ACQUIRE);
    if (at == 0) {
      uintptr_t none = 0;
      if (!__atomic_compare_exchange_n(&s->at, &none, a, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) && none != a)
        continue;
    } else if (at != a) {
      continue;
    }
    unsigned int hits = __atomic_add_fetch(&s->hits, 1, __ATOMIC_RELAXED);
    unsigned char counting = 0;
    /* (one thread claims it; where another site's rewrite was in progress,
     * a later call tries again) */
    if (hits >= REWRITE_AFTER && __atomic_compare_exchange_n(&s->state, &counting, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
      __atomic_store_n(&s->state, rewrite(a, nr) ? 2 : 0, __ATOMIC_RELEASE);
    return;
  }
}

#endif
