/* Sites --all-syscalls rewrites (src/sud_rewrite.c: `mov $NR, %eax;
 * syscall`), and what a program expects to survive a call made from one
 * (bintest/all_syscalls_test.rb). x86_64 only. Each site is a function of
 * assembly below; its bytes tell whether it was rewritten.
 *   fastpath state N    N raw getppid from each of four sites that check,
 *                       around the call: the general registers (all but
 *                       RAX; RCX the return address, R11 the flags as the
 *                       kernel leaves them), the flags, XMM0-15, the upper
 *                       halves of YMM0-15 (where the CPU has AVX) and the
 *                       red zone below the stack pointer. Prints the
 *                       mismatches (0 each), the last result, how many
 *                       sites were rewritten.
 *   fastpath threads N  8 threads making N raw getppid each from one site
 *                       (rewritten while they run): prints how many
 *                       returned the parent's pid, whether it was rewritten
 *   fastpath fork N     N raw getppid, a fork whose child makes N more from
 *                       the same site, then N more in the parent: prints how
 *                       many calls failed with EPERM in each */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* each returns a mask of what differed after the call; the call's result
 * in *result */
long regs_site(long *result);
long vec_site(long *result);
long ymm_site(long *result);
long redzone_site(long *result);
long hot_site(void);
extern const unsigned char regs_at[], vec_at[], ymm_at[], redzone_at[], hot_at[];

__asm__(
    ".text\n"
    /* regs_site: every general register and the flags set, the call, every
     * one checked (bit i: a register; bit 12: RCX, 13: R11, 14: flags) */
    ".globl regs_site\n"
    "regs_site:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  push %rdi\n"
    "  movabs $0x1111111111111111, %rbx\n"
    "  movabs $0x2222222222222222, %rbp\n"
    "  movabs $0x3333333333333333, %r12\n"
    "  movabs $0x4444444444444444, %r13\n"
    "  movabs $0x5555555555555555, %r14\n"
    "  movabs $0x6666666666666666, %r15\n"
    "  xor %edi, %edi\n"
    "  movabs $0x7777777777777777, %rsi\n"
    "  movabs $0x8888888888888888, %rdx\n"
    "  movabs $0x9999999999999999, %r10\n"
    "  movabs $0xaaaaaaaaaaaaaaaa, %r8\n"
    "  movabs $0xbbbbbbbbbbbbbbbb, %r9\n"
    "  stc\n"                      /* CF set, ZF clear: flags to keep */
    "  pushfq\n"
    ".globl regs_at\n"
    "regs_at:\n"
    "  mov $110, %eax\n"
    "  syscall\n"
    "1:\n"
    "  push %r11\n"
    "  pushfq\n"
    "  push %rax\n"                /* result, flags after, R11, flags before */
    "  xor %eax, %eax\n"
    "  movabs $0x1111111111111111, %r11\n cmp %r11, %rbx\n setne %al\n"
    "  movabs $0x2222222222222222, %r11\n cmp %r11, %rbp\n jz 2f\n or $2, %eax\n2:\n"
    "  movabs $0x3333333333333333, %r11\n cmp %r11, %r12\n jz 2f\n or $4, %eax\n2:\n"
    "  movabs $0x4444444444444444, %r11\n cmp %r11, %r13\n jz 2f\n or $8, %eax\n2:\n"
    "  movabs $0x5555555555555555, %r11\n cmp %r11, %r14\n jz 2f\n or $16, %eax\n2:\n"
    "  movabs $0x6666666666666666, %r11\n cmp %r11, %r15\n jz 2f\n or $32, %eax\n2:\n"
    "  test %rdi, %rdi\n jz 2f\n or $64, %eax\n2:\n"
    "  movabs $0x7777777777777777, %r11\n cmp %r11, %rsi\n jz 2f\n or $128, %eax\n2:\n"
    "  movabs $0x8888888888888888, %r11\n cmp %r11, %rdx\n jz 2f\n or $256, %eax\n2:\n"
    "  movabs $0x9999999999999999, %r11\n cmp %r11, %r10\n jz 2f\n or $512, %eax\n2:\n"
    "  movabs $0xaaaaaaaaaaaaaaaa, %r11\n cmp %r11, %r8\n jz 2f\n or $1024, %eax\n2:\n"
    "  movabs $0xbbbbbbbbbbbbbbbb, %r11\n cmp %r11, %r9\n jz 2f\n or $2048, %eax\n2:\n"
    "  lea 1b(%rip), %r11\n cmp %r11, %rcx\n jz 2f\n or $4096, %eax\n2:\n"
    "  mov 24(%rsp), %r11\n"        /* the flags before the call */
    "  and $0x8d5, %r11\n"          /* CF PF AF ZF SF OF */
    "  mov 16(%rsp), %rcx\n and $0x8d5, %rcx\n"
    "  cmp %r11, %rcx\n jz 2f\n or $8192, %eax\n2:\n"
    "  mov 8(%rsp), %rcx\n and $0x8d5, %rcx\n"
    "  cmp %r11, %rcx\n jz 2f\n or $16384, %eax\n2:\n"
    "  pop %rcx\n"                  /* the call's result */
    "  add $24, %rsp\n"
    "  pop %rdi\n"
    "  mov %rcx, (%rdi)\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n"
    /* vec_site: XMM0-15 set from a pattern, the call, each compared (bit i:
     * XMMi) */
    ".globl vec_site\n"
    "vec_site:\n"
    "  push %rdi\n"
    "  lea pattern(%rip), %rsi\n"
    "  movdqu 0(%rsi), %xmm0\n movdqu 16(%rsi), %xmm1\n movdqu 32(%rsi), %xmm2\n movdqu 48(%rsi), %xmm3\n"
    "  movdqu 64(%rsi), %xmm4\n movdqu 80(%rsi), %xmm5\n movdqu 96(%rsi), %xmm6\n movdqu 112(%rsi), %xmm7\n"
    "  movdqu 128(%rsi), %xmm8\n movdqu 144(%rsi), %xmm9\n movdqu 160(%rsi), %xmm10\n movdqu 176(%rsi), %xmm11\n"
    "  movdqu 192(%rsi), %xmm12\n movdqu 208(%rsi), %xmm13\n movdqu 224(%rsi), %xmm14\n movdqu 240(%rsi), %xmm15\n"
    "  xor %edi, %edi\n"
    ".globl vec_at\n"
    "vec_at:\n"
    "  mov $110, %eax\n"
    "  syscall\n"
    "  pop %rdi\n"
    "  mov %rax, (%rdi)\n"
    "  lea pattern(%rip), %rsi\n"
    "  xor %eax, %eax\n"
    "  xor %ecx, %ecx\n"
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "  pcmpeqb \\n*16(%rsi), %xmm\\n\n"
    "  pmovmskb %xmm\\n, %edx\n"
    "  cmp $0xffff, %edx\n"
    "  je 2f\n"
    "  bts %ecx, %eax\n"
    "2:\n"
    "  inc %ecx\n"
    ".endr\n"
    "  ret\n"
    /* ymm_site: the upper halves of YMM0-15 set, the call, each compared
     * (bit i: YMMi); AVX only */
    ".globl ymm_site\n"
    "ymm_site:\n"
    "  push %rdi\n"
    "  lea pattern(%rip), %rsi\n"
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "  vmovdqu \\n*16(%rsi), %ymm\\n\n"
    ".endr\n"
    "  xor %edi, %edi\n"
    ".globl ymm_at\n"
    "ymm_at:\n"
    "  mov $110, %eax\n"
    "  syscall\n"
    "  pop %rdi\n"
    "  mov %rax, (%rdi)\n"
    "  lea pattern(%rip), %rsi\n"
    "  xor %eax, %eax\n"
    "  xor %ecx, %ecx\n"
    "  sub $32, %rsp\n"
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "  vextracti128 $1, %ymm\\n, (%rsp)\n"
    "  movdqu (%rsp), %xmm0\n"
    "  movdqu \\n*16+16(%rsi), %xmm1\n"
    "  pcmpeqb %xmm1, %xmm0\n"
    "  pmovmskb %xmm0, %edx\n"
    "  cmp $0xffff, %edx\n"
    "  je 2f\n"
    "  bts %ecx, %eax\n"
    "2:\n"
    "  inc %ecx\n"
    ".endr\n"
    "  add $32, %rsp\n"
    "  vzeroupper\n"
    "  ret\n"
    /* redzone_site: the 128 bytes below the stack pointer (a leaf
     * function's to use) set, the call, compared (bit i: qword i) */
    ".globl redzone_site\n"
    "redzone_site:\n"
    "  mov %rdi, %r8\n"
    "  xor %ecx, %ecx\n"
    "1:\n"
    "  lea 0x5a5a(%rcx), %rax\n"
    "  mov %rax, -128(%rsp,%rcx,8)\n"
    "  inc %ecx\n"
    "  cmp $16, %ecx\n"
    "  jne 1b\n"
    "  xor %edi, %edi\n"
    ".globl redzone_at\n"
    "redzone_at:\n"
    "  mov $110, %eax\n"
    "  syscall\n"
    "  mov %rax, (%r8)\n"
    "  xor %eax, %eax\n"
    "  xor %ecx, %ecx\n"
    "1:\n"
    "  lea 0x5a5a(%rcx), %rdx\n"
    "  cmp %rdx, -128(%rsp,%rcx,8)\n"
    "  je 2f\n"
    "  bts %ecx, %eax\n"
    "2:\n"
    "  inc %ecx\n"
    "  cmp $16, %ecx\n"
    "  jne 1b\n"
    "  ret\n"
    /* hot_site: a raw getppid */
    ".globl hot_site\n"
    "hot_site:\n"
    ".globl hot_at\n"
    "hot_at:\n"
    "  mov $110, %eax\n"
    "  syscall\n"
    "  ret\n"
    ".section .rodata\n"
    ".p2align 4\n"
    "pattern:\n"
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n"
    "  .quad 0x0102030405060708 * (\\n + 1), 0x1122334455667788 ^ \\n\n"
    ".endr\n"
    ".text\n");

/* Whether the site at `at` is not the `mov $110, %eax` it was built as. */
static int rewritten(const unsigned char *at) {
  return at[0] != 0xb8;
}

static long per_thread, parent_pid;
static long good[8];
static void *hot(void *arg) {
  long i = (long)arg;
  for (long k = 0; k < per_thread; k++)
    if (hot_site() == parent_pid)
      good[i]++;
  return NULL;
}

static long eperms(long n) {
  long failed = 0;
  for (long i = 0; i < n; i++)
    if (hot_site() == -1 /* EPERM */)
      failed++;
  return failed;
}

int main(int argc, char **argv) {
  if (argc < 3)
    return 2;
  const char *what = argv[1];
  long n = atol(argv[2]);
  if (!strcmp(what, "state")) {
    __builtin_cpu_init();
    int avx = __builtin_cpu_supports("avx2");
    long regs = 0, vec = 0, ymm = 0, zone = 0, r = 0;
    for (long i = 0; i < n; i++) {
      regs |= regs_site(&r);
      vec |= vec_site(&r);
      if (avx)
        ymm |= ymm_site(&r);
      zone |= redzone_site(&r);
    }
    int sites = rewritten(regs_at) + rewritten(vec_at) + (avx ? rewritten(ymm_at) : rewritten(vec_at)) + rewritten(redzone_at);
    printf("regs %#lx vec %#lx ymm %#lx redzone %#lx result %ld rewritten %d/4\n", regs, vec, ymm, zone, r, sites);
  } else if (!strcmp(what, "threads")) {
    per_thread = n;
    parent_pid = getppid();
    pthread_t t[8];
    for (long i = 0; i < 8; i++)
      pthread_create(&t[i], NULL, hot, (void *)i);
    long all = 0;
    for (int i = 0; i < 8; i++) {
      pthread_join(t[i], NULL);
      all += good[i];
    }
    printf("threads %ld rewritten %d\n", all, rewritten(hot_at));
  } else if (!strcmp(what, "fork")) {
    long before = eperms(n);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      printf("child %ld rewritten %d\n", eperms(n), rewritten(hot_at));
      fflush(stdout);
      _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("parent %ld %ld\n", before, eperms(n));
  } else {
    return 2;
  }
  return 0;
}
