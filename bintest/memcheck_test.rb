require_relative "helper"
include HijackBintest

# The preload library under Valgrind's memcheck, inside real programs: every
# call of the table hooked and failed, every call traced, hooks on every call
# of real programs, threads that come and go, fork, faults, fakes and
# policy. Any invalid read or write, use of uninitialised memory, or bad free
# in hijack (Rust, mruby or C) is an error: valgrind exits 99 and says where.
# (Valgrind rather than AddressSanitizer: ASan must be the first library of
# an instrumented program; hijack is preloaded into uninstrumented ones.)

module Memcheck
  module_function

  # Why memcheck cannot run this target's programs here, or nil when it can.
  def unusable
    return @unusable if defined?(@unusable)
    @unusable = if !system("sh", "-c", "command -v valgrind >/dev/null")
                  "valgrind is not installed"
                elsif ENV["HIJACK_ALL_SYSCALLS"] == "1"
                  # (valgrind runs the program's code on its own CPU: the
                  # kernel's dispatch would trap valgrind's own calls)
                  "valgrind cannot run a program under --all-syscalls (Syscall User Dispatch)"
                else
                  _out, err, st = Open3.capture3("valgrind", "-q", HijackBintest.program("hcat"), "/dev/null")
                  # (32-bit programs need the C library's 32-bit debug symbols, libc6-dbg:i386)
                  why = err[/Fatal error[^\n]*/] || err.lines.first.to_s.strip
                  "valgrind cannot run this target's programs here (#{why.squeeze(" ")}#{HijackBintest.target_bits == 32 ? "; 32-bit ones need libc6-dbg:i386" : ""})" unless st.success?
                end
  end

  # Runs `hijack run ARGS... -- valgrind COMMAND...`: the runner sets the
  # process up as always, and the command runs under memcheck with the
  # library preloaded. Returns [stdout, valgrind's report, status].
  def run(*args, command, env: {})
    Dir.mktmpdir("hijack-memcheck") do |dir|
      out, err, st = Open3.capture3(env, HijackBintest.exe, "run", *args, "--", "valgrind", "-q", "--error-exitcode=99",
                                    "--trace-children=yes", "--child-silent-after-fork=no",
                                    "--log-file=#{dir}/vg.%p", *command)
      # (its warnings about what it does not model, fcntl(F_...) and ioctl
      # numbers it does not know, are not errors)
      notes = /^==\d+== (Warning: |   This could cause spurious value errors|   See README_MISSING_SYSCALL_OR_IOCTL)/
      report = Dir["#{dir}/vg.*"].map { |f| File.read(f).lines.grep_v(notes).join }.join
      [out, report, st, err]
    end
  end
end

def assert_clean(report, st, what)
  assert_equal ["", true], [report, st.exitstatus != 99], "#{what}: memcheck errors"
end

# Under memcheck the allocation functions are valgrind's own (it replaces
# them in every library, the preloaded one included): the memory group's
# calls never reach hijack there, and are left out.
def unmanaged_by_valgrind
  hijack("list", "--functions")[0].lines.map(&:split).select { |l| l[1] == "memory" }.map(&:first)
end

assert("memcheck: every call of the table hooked, its arguments read, failed with EIO") do
  skip Memcheck.unusable if Memcheck.unusable
  in_tmpdir do |dir|
    log = "#{dir}/log"
    returning = Exercise.calls.reject { |n, c| c[1] || unmanaged_by_valgrind.include?(n) }
    out, report, st = Memcheck.run("-s", Exercise.script(dir), [exercise, *returning.keys], env: { "HIJACK_LOG" => log })
    assert_clean(report, st, "exercise")
    assert_equal [], returning.keys - Exercise.hooked(log)
    assert_equal [], out.lines.grep(/: wrong: /)
    assert_equal 0, st.exitstatus
  end
end

assert("memcheck: every call made for real and traced in the strace format, JSON lines and a summary") do
  skip Memcheck.unusable if Memcheck.unusable
  made = Exercise.calls.select { |n, c| c[3] && !unmanaged_by_valgrind.include?(n) }.keys
  in_tmpdir do |dir|
    %w[strace jsonl].each do |format|
      _out, report, st = Memcheck.run("--trace", "all,memory", "--format", format, "-o", "#{dir}/t.#{format}", "--summary",
                                      [exercise, *made])
      assert_clean(report, st, format)
      assert_true File.size("#{dir}/t.#{format}") > 1000
    end
  end
end

assert("memcheck: observe-everything hooks in real programs, with threads coming and going, and fork") do
  skip Memcheck.unusable if Memcheck.unusable
  in_tmpdir do |dir|
    data = write("#{dir}/data", "memcheck\n" * 100)
    commands = [[program("hcat"), data], [program("promises"), "threads", "50"], [program("promises"), "fork"],
                [program("writers"), "4", "200"]]
    commands << ["sqlite3", ":memory:", "create table t(x); insert into t values (1); select * from t;"] if target_bits == 64
    commands.each do |command|
      log = "#{dir}/log"
      bare = Open3.capture2(*command)[0]
      out, report, st = Memcheck.run("-s", "#{FIXTURES}/observe_all.rb", command, env: { "HIJACK_LOG" => log })
      assert_clean(report, st, command.first)
      # (the threads' memory figures are valgrind's, not comparable)
      bare, out = [bare, out].map { |o| o.gsub(/\d+/, "N") } if command[1] == "threads"
      assert_equal [bare, 0], [out, st.exitstatus], command.inspect
      assert_hooks_ran(log)
      File.delete(log)
    end
  end
end

assert("memcheck: faults, fake files and time, policy") do
  skip Memcheck.unusable if Memcheck.unusable
  in_tmpdir do |dir|
    data = write("#{dir}/data", "memcheck\n" * 1000)
    fake = write("#{dir}/fake", "faked\n")
    policy = write("#{dir}/policy.rb", %(Hijack::Policy.audit { allow_read "/usr/**", "/etc/**"; deny_all_else }))
    [["--fail", "read:EIO@0.5", "--short", "write:3", "--corrupt", "read@0.5", "--seed", "1", "--quiet"],
     ["--fake", "#{dir}/elsewhere=#{fake}", "--time", "2030-01-01 00:00:00", "--time-scale", "10"],
     ["--policy", policy, "--audit", "#{dir}/audit"]].each do |flags|
      target = flags.include?("--fake") ? "#{dir}/elsewhere" : data
      _out, report, st = Memcheck.run(*flags, [program("hcat"), target])
      assert_clean(report, st, flags.first)
    end
    assert_true File.size("#{dir}/audit").positive?, "the policy audited the read"
  end
end
