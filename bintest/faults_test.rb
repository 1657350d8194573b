require_relative "helper"
include HijackBintest

# Fault injection on real programs (issue 7).

def strip_run_details(log)
  log.lines.grep(/^hijack-fault /).map { |l| l.sub(/time=\S+ pid=\d+ tid=\d+ /, "") }
end

assert("--fail read:EIO: cat reports an I/O error") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "d\n")
    out, err, st = hijack("run", "--fail", "read:EIO", "--seed", "1", "--", cat, data)
    assert_equal ["", 1], [out, st.exitstatus]
    assert_include err, "Input/output error"
    assert_include err, "injected=EIO seed=1 rule=1"
    assert_not_include err, "faults seeded", "a seed given is not reported again"
  end
end

assert("Hijack.fail with a path: python3 raises OSError [Errno 5]") do
  native_programs_only("python3")
  in_tmpdir do |dir|
    data = write("#{dir}/data.txt", "d\n")
    _out, err, st = hijack("run", "-e", %(Hijack.fail :read, with: :EIO, path: "**/data.txt"), "--",
                           python, "-c", "open(#{data.inspect}).read()")
    assert_equal 1, st.exitstatus
    assert_include err, "OSError: [Errno 5] Input/output error"
  end
end

assert("sqlite3 under write faults reports a disk I/O error; the database stays consistent") do
  native_programs_only("sqlite3")
  in_tmpdir do |dir|
    db = "#{dir}/test.db"
    system("sqlite3", db, "create table t(x); insert into t values (1);") or raise "sqlite3"
    # (fd 3 and up: its message on standard error still gets out, which
    # --all-syscalls sees written too)
    _out, err, st = hijack("run", "-e", "Hijack.fail :write, :pwrite, :pwrite64, with: :EIO, fd: 3.., after: 1", "--",
                           "sqlite3", db, "insert into t select x + 1 from t; insert into t select x + 2 from t;")
    assert_not_equal 0, st.exitstatus
    assert_include err, "disk I/O error"
    out, _err, st = Open3.capture3("sqlite3", db, "pragma integrity_check; select count(*) >= 1 from t;")
    assert_equal ["ok\n1\n", 0], [out, st.exitstatus]
  end
end

assert("git under ENOSPC on write fails cleanly") do
  native_programs_only("git")
  in_tmpdir do |dir|
    write("#{dir}/f", "f\n")
    env = { "HOME" => dir, "GIT_AUTHOR_NAME" => "A", "GIT_AUTHOR_EMAIL" => "a@x", "GIT_COMMITTER_NAME" => "A",
            "GIT_COMMITTER_EMAIL" => "a@x" }
    system(env, "git", "init", "-q", dir) or raise "git init"
    # (fd 3 and up: git's own messages on standard error still get out)
    _out, err, st = Open3.capture3(env, exe, "run", "-e", "Hijack.fail :write, with: :ENOSPC, fd: 3..", "--",
                                   "git", "-C", dir, "add", "f")
    assert_true st.exited? && st.exitstatus > 0, "a clean failure, not a crash: #{st.inspect}"
    assert_include err, "No space left on device"
  end
end

assert("--partition: curl refused (exit 7), or held until its own --connect-timeout (exit 28)") do
  native_programs_only("curl and python3")
  in_tmpdir do |dir|
    write("#{dir}/page.txt", "page\n")
    Open3.popen2(python, "#{FIXTURES}/serve.py", dir, "1") do |_stdin, stdout, server|
      port = stdout.gets.to_i
      url = "http://127.0.0.1:#{port}/page.txt"
      _out, _err, st = hijack("run", "--partition", "127.0.0.1:#{port}", "--", "curl", "-sS", url)
      assert_equal 7, st.exitstatus
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      _out, _err, st = hijack("run", "--partition", "127.0.0.1:#{port}/blackhole", "--",
                              "curl", "-sS", "--connect-timeout", "1", url)
      took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
      assert_equal 28, st.exitstatus # curl's own "operation timed out"
      assert_true took >= 0.9, "held until the 1 s connect timeout: #{took}"
      out, _err, st = Open3.capture3("curl", "-sS", url)
      assert_equal ["page\n", 0], [out, st.exitstatus], "the server itself was there all along"
      server.value
    end
  end
end

assert("--throttle read:1MB/s: a 2 MB read takes 2 s, the sleeps make up the difference") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "t" * 2_000_000)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    # (LC_ALL=C: no locale file is read first, which --all-syscalls would
    # throttle too)
    out, st, sleeps = real_sleeps("run", "--throttle", "read:1MB/s", "--", cat, data, env: {"LC_ALL" => "C"})
    took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    assert_equal [2_000_000, 0], [out.size, st.exitstatus]
    assert_true took >= 2.0, "2 MB at 1 MB/s took #{took} s"
    # What it waited for: the 2 s less the time the reads themselves took.
    assert_true sleeps.sum > 1.5 && sleeps.sum <= 2.0, "slept #{sleeps.sum} s in #{sleeps.size} sleeps"
  end
end

assert("--drop sendto@0.3 --seed 1: about 30% of datagrams lost, the same ones again") do
  native_programs_only("python3")
  runs = 2.times.map do
    out, _err, st = hijack("run", "--drop", "sendto@0.3", "--seed", "1", "--", python, "#{FIXTURES}/udp.py", "200")
    assert_equal 0, st.exitstatus
    out.split.map(&:to_i)
  end
  assert_equal runs[0], runs[1]
  assert_true runs[0].size > 110 && runs[0].size < 170, "about 140 of 200 arrive: #{runs[0].size}"
end

assert("--short write:1: cp and python still copy exactly; a naive writer truncates") do
  in_tmpdir do |dir|
    src = write("#{dir}/src", (0..255).map(&:chr).join * 40)
    if target_bits == 64
      _out, _err, st = hijack("run", "--short", "write:1", "--", "cp", src, "#{dir}/copy")
      assert_equal [0, File.binread(src)], [st.exitstatus, File.binread("#{dir}/copy")]
      _out, _err, st = hijack("run", "--short", "write:1", "--", python, "-c",
                              "open('#{dir}/py', 'wb').write(open('#{src}', 'rb').read())")
      assert_equal [0, File.binread(src)], [st.exitstatus, File.binread("#{dir}/py")]
    end
    _out, _err, st = hijack("run", "--short", "write:1", "--", program("naive_write"), "#{dir}/naive", "hello")
    assert_equal [0, "h"], [st.exitstatus, File.binread("#{dir}/naive")]
  end
end

assert("--corrupt read@1 --times 1: exactly one bit differs") do
  in_tmpdir do |dir|
    original = (0..255).map(&:chr).join * 100
    data = write("#{dir}/data", original)
    # (LC_ALL=C: the first read is the file's, not a locale file's, under
    # --all-syscalls too)
    out, _err, st = hijack("run", "--corrupt", "read@1", "--times", "1", "--", cat, data, env: {"LC_ALL" => "C"})
    assert_equal [original.bytesize, 0], [out.bytesize, st.exitstatus]
    bits = original.bytes.zip(out.bytes).sum { |a, b| (a ^ b).to_s(2).count("1") }
    assert_equal 1, bits
  end
end

assert("the same seed injects the same faults: identical fault logs but for time and pid") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "x" * 500_000)
    logs = 2.times.map do |i|
      log = "#{dir}/faults#{i}.log"
      hijack("run", "--corrupt", "read@0.5", "--delay", "read:1ms@0.3", "--seed", "99", "--fault-log", log,
             "--", cat, data)
      strip_run_details(File.read(log))
    end
    assert_true logs[0].size > 1, "faults were injected"
    assert_equal logs[0], logs[1]
  end
end

assert("bad fault flags are refused before the command starts") do
  in_tmpdir do |dir|
    marker = "#{dir}/marker"
    assert_usage_error("--fail read:EBOGUS: unknown errno EBOGUS", "run", "--fail", "read:EBOGUS", "--", "touch", marker)
    assert_usage_error("--delay write:fast: expected a time like 50ms", "run", "--delay", "write:fast", "--", "touch", marker)
    assert_false File.exist?(marker)
  end
end

assert("--faults-summary counts the faults of each rule at exit") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "x" * 10)
    _out, err, _st = hijack("run", "--fail", "read:EIO", "--times", "1", "--faults-summary", "--", cat, data)
    assert_match "*fail read with EIO (rule 1): 1 faults injected*", err
  end
end

assert("--fail-malloc-after N: a C program sees a clean NULL") do
  out, _err, st = hijack("run", "--fail-malloc-after", "50", "--", program("allocate"), "1000")
  assert_equal 3, st.exitstatus, "its NULL check ran (not a crash: #{st.inspect})"
  assert_match "allocation * refused", out.chomp
  out, _err, st = hijack("run", "--", program("allocate"), "1000")
  assert_equal ["all 1000 allocations\n", 0], [out, st.exitstatus]
end

assert("malloc refused to python3: MemoryError") do
  native_programs_only("python3")
  big = %(Hijack.on(:malloc, :calloc) { |c| (c.name == :calloc ? c.nmemb * c.size : c.size) >= (1 << 26) ? c.fail(:ENOMEM) : c.proceed })
  out, _err, st = hijack("run", "-e", big, "--", python, "-c",
                         "try:\n    bytearray(256 << 20)\nexcept MemoryError:\n    print('MemoryError')")
  assert_equal ["MemoryError\n", 0], [out, st.exitstatus]
end
