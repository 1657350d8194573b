require_relative "helper"
include HijackBintest

# Complete mode (issue 17): `hijack run --all-syscalls` hands every system
# call a program makes to the hooks, through Syscall User Dispatch, not only
# those made through the C library's functions of the table.

def rawcalls
  program("rawcalls")
end

# A hook denying every openat of `path` with `errno`.
def deny_openat(path, errno = "EACCES")
  %(Hijack.before(:openat, path: #{path.inspect}) { raise Errno::#{errno} })
end

assert("--all-syscalls: an openat made by inline assembly is denied by a hook on openat") do
  sud_only
  in_tmpdir do |dir|
    data = write("#{dir}/data", "secret\n")
    deny = deny_openat(data)
    out, _err, st = hijack("run", "-e", deny, "--", rawcalls, "openat", data, env: symbol_mode)
    assert_equal ["openat: 3\n", 0], [out, st.exitstatus], "without the flag, the raw call is not seen"
    out, _err, st = hijack("run", "--all-syscalls", "-e", deny, "--", rawcalls, "openat", data)
    assert_equal ["openat: -#{Errno::EACCES::Errno}\n", 0], [out, st.exitstatus]
  end
end

assert("--all-syscalls: the read beneath fgets is traced, once, as strace shows it") do
  sud_only
  in_tmpdir do |dir|
    data = write("#{dir}/data", "one line\n")
    out, _err, st = hijack("run", "--all-syscalls", "--trace", "openat,read", "-o", "#{dir}/t", "--", rawcalls, "fgets", data)
    assert_equal ["fgets: one line\n", 0], [out, st.exitstatus]
    lines = File.readlines("#{dir}/t").map { |l| l.sub(/\A\[pid \d+\] /, "").sub(/ +=/, " =") }
    opened = lines.grep(/\Aopenat\(AT_FDCWD, "#{Regexp.escape(data)}"/)
    assert_equal 1, opened.size, lines.join
    fd = opened[0][/= (\d+)\n/, 1]
    assert_equal ["read(#{fd}, \"one line\\n\", 4096) = 9\n"], lines.grep(/\Aread\(#{fd}, "one/), lines.join
  end
end

assert("--all-syscalls: stdio's buffered fprintf is changed by a hook on write") do
  sud_only
  in_tmpdir do |dir|
    upcase = %(Hijack.before(:write, path: "#{dir}/**") { |c| c.data = c.data.upcase })
    hijack("run", "-e", upcase, "--", rawcalls, "printf", "#{dir}/plain", env: symbol_mode)
    assert_equal "hello from printf\n", File.read("#{dir}/plain"), "without the flag, stdio's write is not seen"
    _out, _err, st = hijack("run", "--all-syscalls", "-e", upcase, "--", rawcalls, "printf", "#{dir}/out")
    assert_equal 0, st.exitstatus
    assert_equal "HELLO FROM PRINTF\n", File.read("#{dir}/out")
  end
end

assert("--all-syscalls: 8 threads making 10,000 raw getppid each are counted exactly") do
  sud_only
  code = %(Hijack.after(:getppid) { Hijack::Shared.incr(:n) }\nHijack.at_exit { Hijack.log "n=\#{Hijack::Shared[:n]}" })
  out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", rawcalls, "threads", "10000")
  assert_equal ["threads done\n", 0], [out, st.exitstatus]
  assert_equal "n=80000\n", err
  # the same started by exec (through sh): its threads' first hooked calls
  # are the process's first, at once (one loads the scripts, the others
  # wait for it)
  out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", "sh", "-c", "#{rawcalls} threads 10000; true")
  assert_equal ["threads done\n", 0], [out, st.exitstatus]
  assert_include err.lines, "n=80000\n"
end

# (the blocks' mmap: read-write, 256 KiB and a page; a munmap of that size
# may also be a new thread arena's trimming, one or two per arena)
def malloc_maps(text)
  maps = text.scan(/mmap2?\(NULL, (\d+), PROT_READ\|PROT_WRITE,/).count { |(len)| (256 * 1024..264 * 1024).include?(len.to_i) }
  unmaps = text.scan(/munmap\(0x\h+, (\d+)/).count { |(len)| (256 * 1024..264 * 1024).include?(len.to_i) }
  [maps, unmaps]
end

assert("--all-syscalls: the mmap and munmap malloc and free make inside, on 8 threads, reach Ruby hooks that allocate (hijack's own heap), counted as strace counts them") do
  sud_only
  n = 300
  big = "(256 * 1024..264 * 1024)"
  # (i386's C library maps with mmap2)
  map = target_bits == 32 ? "mmap2" : "mmap"
  code = <<~RUBY
    Hijack.after(:#{map}) { |c| Hijack::Shared.incr(:mmap) if #{big}.include?(c.length) && c.prot == 3 && ("x" * 1000 + c.length.to_s).size > 0 }
    Hijack.after(:munmap) { |c| Hijack::Shared.incr(:munmap) if #{big}.include?(c.length) && [c.length, {a: 1}].size == 2 }
    Hijack.at_exit { Hijack.log "\#{Hijack::Shared[:mmap]} \#{Hijack::Shared[:munmap]}" }
  RUBY
  blocks = 8 * n
  out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", rawcalls, "mallocs", n.to_s)
  assert_equal ["mallocs done\n", 0], [out, st.exitstatus], err
  maps, unmaps = err.split.map(&:to_i)
  assert_equal blocks, maps, "every block one mmap, inside malloc: #{err}"
  assert_true (blocks..blocks + 16).include?(unmaps), "every block one munmap, inside free: #{err}"
  in_tmpdir do |dir|
    system("strace", "-f", "-qq", "-e", "trace=#{map},munmap", "-o", "#{dir}/strace", rawcalls, "mallocs", n.to_s, out: File::NULL)
    theirs = malloc_maps(File.read("#{dir}/strace"))
    assert_equal blocks, theirs[0], "strace sees the same mmaps"
    _out, err, st = hijack("run", "--all-syscalls", "--trace", "#{map},munmap", "-o", "#{dir}/t", "--", rawcalls, "mallocs", n.to_s)
    assert_equal 0, st.exitstatus, err
    ours = malloc_maps(File.read("#{dir}/t"))
    assert_equal blocks, ours[0], "traced as strace shows them"
    assert_true [theirs[1], ours[1]].all? { |u| (blocks..blocks + 16).include?(u) }, "munmaps: strace #{theirs[1]}, hijack #{ours[1]}"
  end
end

assert("--all-syscalls: fork, vfork + exec, posix_spawn and system children are all covered, as strace counts them") do
  sud_only
  in_tmpdir do |dir|
    data = write("#{dir}/data", "x\n")
    _o, _e, st = Open3.capture3("strace", "-f", "-qq", "-e", "trace=openat", "-o", "#{dir}/strace", rawcalls, "children", data)
    assert_equal 0, st.exitstatus
    theirs = File.readlines("#{dir}/strace").grep(/openat\(AT_FDCWD, "#{Regexp.escape(data)}"/).size
    out, _err, st = hijack("run", "--all-syscalls", "--trace", "openat", "-o", "#{dir}/t", "--", rawcalls, "children", data)
    assert_equal 0, st.exitstatus
    assert_equal "x\nx\nx\nchildren done\n", out
    ours = File.readlines("#{dir}/t").grep(/openat\(AT_FDCWD, "#{Regexp.escape(data)}"/).size
    assert_equal [4, theirs], [ours, 4]
  end
end

assert("--all-syscalls: a child of glibc's clone() and the parent's exit after a hooked call are seen, as strace shows them") do
  sud_only
  in_tmpdir do |dir|
    data = write("#{dir}/data", "x\n")
    names = "getppid,write,exit,exit_group,openat"
    calls = lambda do |path|
      File.readlines(path).map { |l| l.sub(/\A(\[pid +\d+\] |\d+ +)/, "")[/\A[^=]*\)/].to_s.strip }
          .reject { |c| c.empty? || c.start_with?("openat") && !c.include?(data) }.sort
    end
    _o, _e, st = Open3.capture3("strace", "-f", "-qq", "-e", "trace=#{names}", "-o", "#{dir}/strace", rawcalls, "clone", data)
    assert_equal 0, st.exitstatus
    out, _err, st = hijack("run", "--all-syscalls", "--trace", names, "-o", "#{dir}/t", "--", rawcalls, "clone", data)
    assert_equal ["child opened: 3\nchild status 7\n", 0], [out, st.exitstatus]
    ours = calls.("#{dir}/t")
    assert_include ours, "exit(7)"
    assert_include ours, "exit_group(0)"
    assert_equal calls.("#{dir}/strace"), ours
  end
end

assert("--all-syscalls: a Go program's os.ReadFile (raw openat and read from Go's runtime) is traced and deniable") do
  sud_x86_64_only("no 32-bit Go program is built here")
  goread = go_program("goread")
  in_tmpdir do |dir|
    data = write("#{dir}/data", "from go\n")
    deny = deny_openat(data)
    out, _err, st = hijack("run", "-e", deny, "--", goread, data, env: symbol_mode)
    assert_equal ["read: from go\n", 0], [out, st.exitstatus], "without the flag, Go's calls are not seen"
    out, _err, st = hijack("run", "--all-syscalls", "-e", deny, "--", goread, data)
    assert_equal ["error: open #{data}: permission denied\n", 1], [out, st.exitstatus]
    out, _err, st = hijack("run", "--all-syscalls", "--trace", "openat,read", "-o", "#{dir}/t", "--", goread, data)
    assert_equal ["read: from go\n", 0], [out, st.exitstatus]
    lines = File.readlines("#{dir}/t").map { |l| l.sub(/\A\[pid +\d+\] /, "").sub(/ +=/, " =") }
    assert_equal [%(openat(AT_FDCWD, "#{data}", O_RDONLY|O_CLOEXEC) = 3\n), %(read(3, "from go\\n", 512) = 8\n)],
                 lines.grep(/\A(openat\(AT_FDCWD, "#{Regexp.escape(data)}"|read\(3, "from)/), lines.join
  end
end

assert("--all-syscalls: 16 goroutines reading a file 50 times each, on Go's threads and signals: every open hooked and traced") do
  sud_x86_64_only("no 32-bit Go program is built here")
  goread = go_program("goread")
  in_tmpdir do |dir|
    data = write("#{dir}/data", "from go\n")
    code = %(Hijack.after(:openat, path: #{data.inspect}) { |c| Hijack::Shared.incr(:n) if c.result >= 0 }\nHijack.at_exit { Hijack.log "n=\#{Hijack::Shared[:n]}" })
    out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", goread, data, "16")
    assert_equal ["reads: 800\n", 0, "n=800\n"], [out, st.exitstatus, err]
    out, _err, st = hijack("run", "--all-syscalls", "--trace", "all", "-o", "#{dir}/t", "--", goread, data, "16")
    assert_equal ["reads: 800\n", 0], [out, st.exitstatus]
    assert_equal 800, File.readlines("#{dir}/t").grep(/openat\(AT_FDCWD, "#{Regexp.escape(data)}"/).size
  end
end

assert("--all-syscalls: hooks on a thread with a 16 KiB stack and on an 8 KiB signal stack run on hijack's own stack") do
  sud_x86_64_only("the hooks run on the stack the kernel puts the handler on")
  code = %(Hijack.after(:getppid) { |c| Hijack::Shared.incr(:n); "x" * 1000 }\nHijack.at_exit { Hijack.log "n=\#{Hijack::Shared[:n]}" })
  out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", rawcalls, "small-stack", "500")
  assert_equal ["small done\n", 0, "n=1000\n"], [out, st.exitstatus, err]
  out, _err, st = hijack("run", "--all-syscalls", "--trace", "all", "-o", "/dev/null", "--", rawcalls, "small-stack", "500")
  assert_equal ["small done\n", 0], [out, st.exitstatus]
end

assert("--all-syscalls: a signal handler run while a hooked raw call waits has its own calls hooked") do
  sud_only
  code = %(Hijack.after(:nanosleep) { }\nHijack.after(:getppid) { Hijack::Shared.incr(:n) }\nHijack.at_exit { Hijack.log "n=\#{Hijack::Shared[:n]}" })
  out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", rawcalls, "alarm", "-")
  assert_equal ["nanosleep: -#{Errno::EINTR::Errno}\n", 0, "n=1\n"], [out, st.exitstatus, err]
end

assert("--all-syscalls: a signal handler run during a C library function's real call, hooked or not, is the program's code: its calls hooked") do
  sud_only
  count = %(Hijack.after(:getppid) { Hijack::Shared.incr(:n) }\nHijack.at_exit { Hijack.log "n=\#{Hijack::Shared[:n]}" })
  expected = "nanosleep: -1 Interrupted system call, handler read back: 1\n"
  ["Hijack.after(:nanosleep) { }\n#{count}", count].each do |code|
    out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", rawcalls, "alarm-libc", "-")
    assert_equal [expected, 0, "n=1\n"], [out, st.exitstatus, err], code
  end
  # (i686: a handler without SA_SIGINFO returns by the vDSO's sigreturn,
  # which the kernel never dispatches: only strace sees it)
  back = target_bits == 32 ? "sigreturn" : "rt_sigreturn"
  in_tmpdir do |dir|
    _o, _e, st = Open3.capture3("strace", "-f", "-qq", "-e", "trace=#{back},getppid", "-o", "#{dir}/strace", rawcalls, "alarm-libc", "-")
    assert_equal 0, st.exitstatus
    out, _err, st = hijack("run", "--all-syscalls", "--trace", "#{back},getppid,nanosleep", "-o", "#{dir}/t", "--", rawcalls, "alarm-libc", "-")
    assert_equal [expected, 0], [out, st.exitstatus]
    names = ->(f) { File.readlines(f).map { |l| l[/\b(#{back}|getppid)\(/, 1] }.compact }
    assert_equal ["getppid", back], names.("#{dir}/strace")
    assert_equal target_bits == 32 ? ["getppid"] : names.("#{dir}/strace"), names.("#{dir}/t")
    # (and nothing of hijack's own after the handler: its trace line)
    assert_not_include File.read("#{dir}/t"), "write(2"
  end
end

assert("--all-syscalls: a signal handler run while a fork holds hijack's locks stays out of the hooks (no deadlock)") do
  sud_only
  code = %(Hijack.after(:getppid, :clone, :fork) { Hijack::Shared.incr(:n) })
  out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", rawcalls, "fork-storm", "300")
  assert_equal ["forked 300\n", 0], [out, st.exitstatus], err
end

assert("--all-syscalls: a program's own SIGSYS handler and a full signal mask neither stop nor break the hooks") do
  sud_only
  in_tmpdir do |dir|
    data = write("#{dir}/data", "x\n")
    deny = deny_openat(data, "EPERM")
    out, _err, st = hijack("run", "--all-syscalls", "-e", deny, "--", rawcalls, "masked", data)
    assert_equal ["openat: -#{Errno::EPERM::Errno}, SIGINT blocked: 1\n", 0], [out, st.exitstatus]
  end
end

assert("--all-syscalls: a signal handler that blocks every signal (as Go's do) makes its calls and returns, hooked") do
  sud_only
  code = %(Hijack.after(:getppid) { Hijack::Shared.incr(:n) }\nHijack.at_exit { Hijack.log "n=\#{Hijack::Shared[:n]}" })
  out, err, st = hijack("run", "--all-syscalls", "-e", code, "--", rawcalls, "handler", "200")
  assert_equal ["handled 200\n", 0, "n=200\n"], [out, st.exitstatus, err]
end

assert("--all-syscalls: a program's own seccomp filter still traps into the program's own SIGSYS handler") do
  sud_only
  bare, _e, st = Open3.capture3(rawcalls, "seccomp", "-")
  assert_equal 0, st.exitstatus
  assert_match "trapped: *, result *", bare
  out, _err, st = hijack("run", "--all-syscalls", "-e", "Hijack.after(:getppid) { }", "--", rawcalls, "seccomp", "-")
  assert_equal [bare, 0], [out, st.exitstatus]
end

assert("--all-syscalls with --control: a fault loaded by ctl reaches raw calls") do
  sud_only
  in_tmpdir do |dir|
    data = write("#{dir}/data", "x\n")
    out_r, out_w = IO.pipe
    pid = Process.spawn(exe, "run", "--all-syscalls", "--control", "--", rawcalls, "until-fails", data, out: out_w)
    out_w.close
    begin
      assert_true wait_until { hijack("ps")[0].include?(pid.to_s) }
      out, _err, st = hijack("ctl", pid.to_s, "-e", %(Hijack.fail(:openat, with: :EIO, path: #{data.inspect})))
      assert_equal ["ok 1\n", 0], [out, st.exitstatus]
      Process.wait(pid)
      assert_equal ["failed: -#{Errno::EIO::Errno}\n", 0], [out_r.read, $?.exitstatus]
    ensure
      Process.kill("KILL", pid) rescue nil
    end
  end
end

assert("--all-syscalls: real programs give the same output as bare, and trace what strace shows after the start") do
  sud_only
  native_programs_only("ls, sh, python3, git")
  in_tmpdir do |dir|
    write("#{dir}/f", "hello\n" * 100)
    [%w[ls -la /usr/bin], ["sh", "-c", "cat #{dir}/f | tr a-z A-Z"], [python, "-c", "import json, os; print(len(os.listdir('/')))"],
     ["gzip", "-c", "#{dir}/f"]].each do |command|
      bare, _e, bst = Open3.capture3(*command)
      out, err, st = hijack("run", "--all-syscalls", "--trace", "all", "-o", "#{dir}/t", "--", *command)
      assert_equal [bare, bst.exitstatus], [out, st.exitstatus], "#{command.join(' ')}: #{err}"
      assert_true File.size("#{dir}/t") > 0
    end
  end
end

assert("--all-syscalls: a program's own Syscall User Dispatch is refused with EINVAL, said once in each process") do
  sud_only
  out, err, st = hijack("run", "--all-syscalls", "-e", "nil", "--", "sh", "-c", "#{rawcalls} own-sud -; #{rawcalls} own-sud -")
  assert_equal ["own dispatch: -1 Invalid argument\n" * 2, 0], [out, st.exitstatus]
  assert_equal 2, err.scan("the program's own Syscall User Dispatch (prctl PR_SET_SYSCALL_USER_DISPATCH) is refused with EINVAL").size, "once per process: #{err}"
  out, _err, st = hijack("run", "-e", "nil", "--", rawcalls, "own-sud", "-", env: symbol_mode)
  assert_equal ["own dispatch: 0 \n", 0], [out, st.exitstatus], "without the flag, the program has it"
end

assert("--all-syscalls where the kernel refuses it: said once, naming the kernel, the C library's functions only; --strict refuses") do
  sud_only
  nosud = program("nosud")
  in_tmpdir do |dir|
    data = write("#{dir}/data", "x\n")
    deny = deny_openat(data)
    # (five processes: said once for the tree; the shell of system() is
    # x86_64's on i686, which the loader says it cannot preload into)
    out, err, st = Open3.capture3(nosud, exe, "run", "--all-syscalls", "-e", deny, "--", rawcalls, "children", data)
    assert_equal ["x\nx\nx\nchildren done\n", 0], [out, st.exitstatus], "the raw calls are not seen"
    err = err.lines.grep_v(/wrong ELF class/).join
    release = File.read("/proc/sys/kernel/osrelease").strip
    said = "hijack: --all-syscalls: the kernel refused Syscall User Dispatch (Invalid argument (os error 22); Linux #{release}: " \
           "it needs 5.11 or later, built with it); hijack sees the C library's functions only\n"
    assert_equal said, err
    out, err, st = Open3.capture3(nosud, exe, "run", "--strict", "--all-syscalls", "-e", deny, "--", rawcalls, "openat", data)
    assert_equal ["", 126], [out, st.exitstatus]
    assert_include err, "(refused: --strict)"
  end
end

assert("--all-syscalls where it cannot be had is refused, saying why") do
  skip "this target has it" if RUBY_PLATFORM.include?("x86_64-linux") && %w[host i686-linux].include?(target)
  _out, err, st = hijack("run", "--all-syscalls", "--", "true")
  assert_equal 2, st.exitstatus
  assert_include err, "--all-syscalls:"
end
