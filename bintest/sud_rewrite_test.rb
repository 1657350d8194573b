require_relative "helper"
include HijackBintest

# --all-syscalls' fast path (src/sud_rewrite.c): a site the program keeps
# making calls from (`mov $NR, %eax; syscall`) is rewritten to call hijack
# without a SIGSYS. test/programs/fastpath.c's sites tell from their bytes
# whether they were; HIJACK_ALL_SYSCALLS=sigsys keeps every call on the
# SIGSYS path, the program's code as built.

def fastpath
  program("fastpath")
end

# A hook whose Ruby uses floating point and strings (vector registers, the C
# library's vectorized copies).
VECTOR_HOOK = %(Hijack.after(:getppid) { |c| $x = (c.result.to_f * 1.5).to_s * 40 }).freeze

assert("--all-syscalls: a rewritten site keeps the general registers, RCX and R11 as the kernel leaves them, the flags, XMM/YMM and the red zone") do
  sud_x86_64_only("no site is rewritten")
  bare, _e, st = Open3.capture3(fastpath, "state", "20")
  assert_equal 0, st.exitstatus
  assert_match "regs 0 vec 0 ymm 0 redzone 0 result * rewritten 0/4\n", bare
  out, err, st = hijack("run", "--all-syscalls", "-e", VECTOR_HOOK, "--", fastpath, "state", "20")
  assert_equal 0, st.exitstatus, err
  assert_match "regs 0 vec 0 ymm 0 redzone 0 result * rewritten 4/4\n", out
  # (and a call no hook wants, which the program makes without hijack
  # saving anything)
  unhooked, err, st = hijack("run", "--all-syscalls", "-e", "Hijack.after(:unlink) { }", "--", fastpath, "state", "20")
  assert_equal [out, 0], [unhooked, st.exitstatus], err
  # (the SIGSYS path's own: the program makes the call from hijack's range)
  unhooked, err, st = hijack("run", "--all-syscalls", "-e", "Hijack.after(:unlink) { }", "--", fastpath, "state", "20",
                             env: { "HIJACK_ALL_SYSCALLS" => "sigsys" })
  assert_equal [out.sub("rewritten 4/4", "rewritten 0/4"), 0], [unhooked, st.exitstatus], err
  # (the same result as the SIGSYS path's: the parent's pid)
  sigsys, _e, st = hijack("run", "--all-syscalls", "-e", VECTOR_HOOK, "--", fastpath, "state", "20", env: { "HIJACK_ALL_SYSCALLS" => "sigsys" })
  assert_equal 0, st.exitstatus
  assert_equal out.sub("rewritten 4/4", "rewritten 0/4"), sigsys
  assert_not_equal "result 0", out[/result \d+/]
end

assert("--all-syscalls: 8 threads calling from one site while it is rewritten: every call hooked once, every result right") do
  sud_x86_64_only("no site is rewritten")
  # (and the main thread's getppid())
  code = %(Hijack.after(:getppid) { Hijack::Shared.incr(:n) }\nHijack.at_exit { Hijack.log "n=\#{Hijack::Shared[:n]}" })
  out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", fastpath, "threads", "10000")
  assert_equal ["threads 80000 rewritten 1\n", 0, "n=80001\n"], [out, st.exitstatus, err]
end

assert("--all-syscalls: a hook denies every call of a rewritten site, in the process and in a fork child") do
  sud_x86_64_only("no site is rewritten")
  deny = "Hijack.before(:getppid) { raise Errno::EPERM }"
  out, err, st = hijack("run", "--all-syscalls", "-e", deny, "--", fastpath, "fork", "20")
  assert_equal ["child 20 rewritten 1\nparent 20 20\n", 0], [out, st.exitstatus], err
end

assert("--all-syscalls: every call of a rewritten site is traced, as strace shows them") do
  sud_x86_64_only("no site is rewritten")
  in_tmpdir do |dir|
    _o, _e, st = Open3.capture3("strace", "-f", "-qq", "-e", "trace=getppid", "-o", "#{dir}/strace", fastpath, "threads", "100")
    assert_equal 0, st.exitstatus
    out, _err, st = hijack("run", "--all-syscalls", "--trace", "getppid", "-o", "#{dir}/t", "--", fastpath, "threads", "100")
    assert_equal ["threads 800 rewritten 1\n", 0], [out, st.exitstatus]
    count = ->(f) { File.readlines(f).count { |l| l.include?("getppid(") } }
    assert_equal [count.("#{dir}/strace"), 801], [count.("#{dir}/t"), count.("#{dir}/strace")]
  end
end

assert("--all-syscalls: HIJACK_ALL_SYSCALLS=sigsys leaves the program's code as built, every call still hooked") do
  sud_x86_64_only("no site is rewritten")
  code = %(Hijack.after(:getppid) { Hijack::Shared.incr(:n) }\nHijack.at_exit { Hijack.log "n=\#{Hijack::Shared[:n]}" })
  out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", fastpath, "threads", "1000", env: { "HIJACK_ALL_SYSCALLS" => "sigsys" })
  assert_equal ["threads 8000 rewritten 0\n", 0, "n=8001\n"], [out, st.exitstatus, err]
end

assert("--all-syscalls reaches a program exec'd with an environment of its own (env -i)") do
  sud_x86_64_only("test/programs/fastpath.c is x86_64's")
  in_tmpdir do |dir|
    _out, _err, st = hijack("run", "--all-syscalls", "--trace", "getppid", "-o", "#{dir}/t", "--", "env", "-i", fastpath, "threads", "2")
    assert_equal 0, st.exitstatus
    assert_equal 17, File.readlines("#{dir}/t").count { |l| l.include?("getppid(") }
  end
end
