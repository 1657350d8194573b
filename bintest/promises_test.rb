require_relative "helper"
include HijackBintest

# Promises of the README and the --help texts that no other test checked.

assert("HIJACK_LIBRARY names the preload library; a missing one is exit 70 before the command runs") do
  in_tmpdir do |dir|
    marker = "#{dir}/ran"
    _out, err, st = hijack("run", "-e", "x = 1", "--", "sh", "-c", "touch #{marker}",
                           env: { "HIJACK_LIBRARY" => "#{dir}/nowhere/libhijack.so" })
    assert_equal 70, st.exitstatus
    assert_include err, "preload library not found: #{dir}/nowhere/libhijack.so"
    assert_false File.exist?(marker), "the command did not start"
    FileUtils.cp(library, "#{dir}/copy.so")
    out, _err, st = hijack("run", "-e", 'Hijack.log "from copy"', "--", program("hcat"), "/dev/null",
                           env: { "HIJACK_LIBRARY" => "#{dir}/copy.so", "HIJACK_LOG" => "#{dir}/log" })
    assert_equal ["", 0], [out, st.exitstatus]
    assert_include File.read("#{dir}/log"), "from copy"
  end
end

# (127 for a command not found is run_test.rb's)
assert("exit status 126 for a command that is not executable") do
  in_tmpdir do |dir|
    plain = write("#{dir}/plain", "not a program\n")
    _out, err, st = hijack("run", "-e", "x = 1", "--", plain)
    assert_equal 126, st.exitstatus
    assert_include err, "cannot run #{plain}: Permission denied"
  end
end

assert("--strsize N: strings and buffers of the strace format are cut at N bytes") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "y" * 100)
    _out, _err, st = hijack("run", "--trace", "read", "--strsize", "8", "-o", "#{dir}/t.txt", "--", program("hcat"), data)
    assert_equal 0, st.exitstatus
    line = File.readlines("#{dir}/t.txt").find { |l| l.include?("= 100") }
    assert_include line, %("yyyyyyyy"...)
    assert_not_include line, "y" * 9
  end
end

assert("--control: the control directory is the user's, mode 0700") do
  native_programs_only("sh")
  in_tmpdir do |dir|
    runtime = "#{dir}/runtime"
    Dir.mkdir(runtime, 0o755)
    _out, _err, st = hijack("run", "--control", "--", "sh", "-c", "true", env: { "XDG_RUNTIME_DIR" => runtime })
    assert_equal 0, st.exitstatus
    stat = File.stat("#{runtime}/hijack")
    assert_equal [0o700, Process.uid], [stat.mode & 0o777, stat.uid]
    File.chmod(0o755, "#{runtime}/hijack")
    _out, err, _st = hijack("run", "--control", "--", "sh", "-c", "true", env: { "XDG_RUNTIME_DIR" => runtime })
    assert_include err, "must be a directory of yours with mode 0700"
  end
end

assert("a read's data= changes what the program gets and the result: shorter and longer than the real read") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "hello world\n")
    script = write("#{dir}/h.rb", <<~RUBY)
      Hijack.after(:read) do |call|
        call.data = call.data.upcase.sub("WORLD", "THERE, WIDE WORLD") if call.result.to_i > 0
      end
    RUBY
    out, err, st = hijack("run", "-s", script, "--trace", "read", "-o", "#{dir}/t.txt", "--", program("hcat"), data)
    assert_equal ["HELLO THERE, WIDE WORLD\n", 0], [out, st.exitstatus], err
    line = File.readlines("#{dir}/t.txt").find { |l| l.include?("HELLO") }
    assert_include line.to_s, "= 24"
    script = write("#{dir}/short.rb", 'Hijack.after(:read) { |c| c.data = c.data[0, 5] if c.result.to_i > 0 }')
    out, _err, st = hijack("run", "-s", script, "--", program("hcat"), data)
    assert_equal ["hello", 0], [out, st.exitstatus]
  end
end

assert("Hijack.trace from Ruby writes the named calls to its file in its format") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "x" * 10)
    out, _err, st = hijack("run", "-e", %(Hijack.trace(:read, to: "#{dir}/t.jsonl", format: :jsonl)), "--",
                           program("hcat"), data)
    assert_equal ["x" * 10, 0], [out, st.exitstatus]
    lines = File.readlines("#{dir}/t.jsonl").map { |l| JSON.parse(l) }
    assert_true lines.any? && lines.all? { |l| l["call"] == "read" }, lines.first.inspect
    assert_true lines.any? { |l| l["result"] == 10 }, lines.inspect
  end
end

# Two loopback listeners for the connect tests; yields their ports.
def two_listeners
  require "socket"
  a = TCPServer.new("127.0.0.1", 0)
  b = TCPServer.new("127.0.0.1", 0)
  yield a.addr[1], b.addr[1]
ensure
  a&.close
  b&.close
end

# `promises connect` lines as {port => result}.
def connects(out)
  out.lines.to_h { |l| host_port, result, _ms = l.split; [host_port.split(":").last.to_i, result] }
end

assert("host: and port: filters on real connects: only the matching peer is failed") do
  two_listeners do |a, b|
    argv = [program("promises"), "connect", "127.0.0.1", a.to_s, "127.0.0.1", b.to_s]
    bare = Open3.capture2(*argv)[0]
    assert_equal({ a => "ok", b => "ok" }, connects(bare))
    {
      %(host: "127.0.0.1", port: #{a}) => { a => "ECONNREFUSED", b => "ok" },
      %(host: "127.0.0.*", port: #{b}..#{b + 1}) => { a => "ok", b => "ECONNREFUSED" },
      %(port: [#{a}, #{b}].min..[#{a}, #{b}].max) => { a => "ECONNREFUSED", b => "ECONNREFUSED" },
      %(host: "10.*") => { a => "ok", b => "ok" },
      %(host: "127.0.0.1", port: 1) => { a => "ok", b => "ok" },
    }.each do |filters, want|
      out, _err, st = hijack("run", "--quiet", "-e", "Hijack.fail :connect, with: :ECONNREFUSED, #{filters}", "--", *argv)
      assert_equal [want, 0], [connects(out), st.exitstatus], filters
    end
  end
end

assert("partition mode: :timeout fails the connect with ETIMEDOUT after timeout: seconds; other peers connect") do
  two_listeners do |a, b|
    out, err, st = hijack("run", "--quiet", "-e", %(Hijack.partition host: "127.0.0.1", port: #{a}, mode: :timeout, timeout: 0.3),
                           "--", program("promises"), "connect", "127.0.0.1", a.to_s, "127.0.0.1", b.to_s)
    assert_equal [{ a => "ETIMEDOUT", b => "ok" }, 0], [connects(out), st.exitstatus]
    waited = out.lines.first.split.last.to_i
    assert_true waited >= 300, "the connect took #{waited} ms (at least the timeout)"
    assert_include err, "call=connect(fd=3, addrlen=16) peer=127.0.0.1:#{a} injected=timeout"
  end
end

assert("Policy allow_connect: an allowed peer connects, another is refused with EACCES and audited") do
  two_listeners do |a, b|
    in_tmpdir do |dir|
      policy = write("#{dir}/policy.rb", <<~RUBY)
        Hijack::Policy.enforce do
          allow_read "/**"
          allow_connect "127.0.0.1:#{a}"
          deny_all_else
        end
      RUBY
      out, _err, st = hijack("run", "--policy", policy, "--audit", "#{dir}/audit", "--",
                             program("promises"), "connect", "127.0.0.1", a.to_s, "127.0.0.1", b.to_s)
      assert_equal [{ a => "ok", b => "EACCES" }, 0], [connects(out), st.exitstatus]
      audit = File.readlines("#{dir}/audit").map { |l| JSON.parse(l) }
      assert_equal ["127.0.0.1:#{b}"], audit.map { |l| l["peer"] }
    end
  end
end

assert("Hijack.at_exit runs once in each process: a forked child and its parent") do
  in_tmpdir do |dir|
    script = write("#{dir}/h.rb", 'Hijack.at_exit { Hijack.log "at_exit #{Hijack.pid}" }')
    out, _err, st = hijack("run", "-s", script, "--", program("promises"), "fork", env: { "HIJACK_LOG" => "#{dir}/log" })
    assert_equal ["child status=0\n", 0], [out, st.exitstatus]
    pids = File.read("#{dir}/log").scan(/^at_exit (\d+)$/).flatten
    assert_equal [2, 2], [pids.size, pids.uniq.size], pids.inspect
  end
end

assert("delay: every delayed call takes at least the delay its fault line names; jitter varies it within its bounds") do
  in_tmpdir do |dir|
    out, _err, st = hijack("run", "--seed", "7", "--fault-log", "#{dir}/faults", "-e",
                           'Hijack.delay :write, seconds: 0.02, jitter: 0.01, path: "/dev/null"', "--",
                           program("promises"), "timed-writes", "8")
    assert_equal 0, st.exitstatus
    took = out.lines.map { |l| l.to_i / 1e9 }
    delays = File.read("#{dir}/faults").scan(/injected=delay ([\d.]+)s/).flatten.map(&:to_f)
    assert_equal 8, delays.size
    took.zip(delays).each { |t, d| assert_true t >= d - 0.0005, "a write took #{t}s, delayed #{d}s" }
    assert_true delays.all? { |d| d >= 0.01 && d <= 0.03 }, delays.inspect
    assert_true delays.uniq.size > 4, "jitter varies the delays: #{delays.inspect}"
  end
end

assert("throttle is per descriptor: two descriptors read at once get the rate each, two threads on one share it") do
  in_tmpdir do |dir|
    2.times { |i| File.binwrite("#{dir}/f#{i}", "z" * 65_536) }
    throttle = %(Hijack.throttle :read, bytes_per_second: 131_072, path: "#{dir}/f*")
    ms = lambda do |other|
      out, _err, st = hijack("run", "-e", throttle, "--", program("promises"), "read-threads", "#{dir}/f0", other)
      assert_equal 0, st.exitstatus
      out[/ms=(\d+)/, 1].to_i
    end
    two = ms.call("#{dir}/f1") # 64 KiB on each of two descriptors
    one = ms.call("same")      # 64 KiB in all, two threads on one descriptor
    assert_true two >= 490, "64 KiB at 128 KiB/s on each descriptor took #{two} ms"
    assert_true one >= 490, "64 KiB at 128 KiB/s on one descriptor shared by two threads took #{one} ms"
    # Per descriptor, not per process: twice the bytes on two descriptors
    # take about as long as half of them on one (not twice as long).
    assert_true two < one * 1.6, "two descriptors #{two} ms, one #{one} ms"
  end
end

assert("a signal handler interrupting a hook: its calls go straight to the real function, nothing breaks") do
  in_tmpdir do |dir|
    script = write("#{dir}/h.rb", <<~'RUBY')
      Hijack.before(:close, fd: -2) { |c| Hijack::Shared.incr(:in_handler) }
      Hijack.before(:close, fd: -1) { |c| x = 0; 20_000.times { x += 1 }; Hijack::Shared.incr(:hook) }
      Hijack.at_exit { Hijack.log "hooks=#{Hijack::Shared[:hook]} handler=#{Hijack::Shared[:in_handler].to_i}" }
    RUBY
    out, err, st = hijack("run", "-s", script, "--", program("promises"), "signals", "200", env: { "HIJACK_LOG" => "#{dir}/log" })
    assert_equal [0, ""], [st.exitstatus, err]
    handled = out[/handled=(\d+)/, 1].to_i
    hooks, in_handler = File.read("#{dir}/log").match(/hooks=(\d+) handler=(\d+)/).captures.map(&:to_i)
    assert_equal 200, hooks
    assert_true handled.positive?, "the timer's signals arrived during the hooks (#{out})"
    # Those that arrived inside a hook made their close unhooked; the program
    # spends its time in hooks, so most did.
    assert_true in_handler < handled, "hooked in the handler: #{in_handler} of #{handled}"
  end
end

assert("thread churn: 50,000 short threads, each with its own VM and one hooked call, add under 1 MiB to 5,000") do
  # Each thread's VM is freed when it exits, and what the scripts register
  # again in each (a filtered hook) is not made anew.
  script = "Hijack.before(:close, fd: -1) { |c| Hijack::Shared.incr(:n) }\nHijack.at_exit { Hijack.log \"n=\#{Hijack::Shared[:n]}\" }"
  out, err, st = hijack("run", "-e", script, "--", program("promises"), "threads", "50000")
  assert_equal 0, st.exitstatus
  assert_include err, "n=50000"
  early, late = out.match(/early=(\d+) late=(\d+)/).captures.map(&:to_i)
  assert_true late - early < 1024, "resident memory grew #{late - early} KiB from thread 5,000 to 50,000"
end

assert("vfork runs as fork: hooks run in the child; a vfork+exec child and a posix_spawn child are followed") do
  in_tmpdir do |dir|
    script = write("#{dir}/h.rb", <<~'RUBY')
      Hijack.before(:close, fd: -7) { |c| Hijack.log "close -7 in #{Hijack.pid}" }
      Hijack.before(:read) { |c| Hijack.log "read in #{Hijack.pid}" }
      Hijack.before(:posix_spawn) { |c| Hijack.log "posix_spawn #{c.path}" }
    RUBY
    data = write("#{dir}/data", "spawned\n")
    log = "#{dir}/log"
    out, _err, st = hijack("run", "-s", script, "--", program("promises"), "vfork", program("hcat"), data, env: { "HIJACK_LOG" => log })
    assert_equal ["vfork child status=3\nspawned\nvfork exec status=0\n", 0], [out, st.exitstatus]
    lines = File.read(log)
    assert_true lines.match?(/^close -7 in \d+$/), lines
    assert_true lines.match?(/^read in \d+$/), "the program the vfork child ran is hooked: #{lines}"
    File.delete(log)
    out, _err, st = hijack("run", "-s", script, "--", program("promises"), "spawn", program("hcat"), data, env: { "HIJACK_LOG" => log })
    assert_equal ["spawned\nstatus=0\n", 0], [out, st.exitstatus]
    lines = File.read(log)
    assert_include lines, "posix_spawn #{program('hcat')}\n"
    assert_true lines.match?(/^read in \d+$/), "the program posix_spawn ran is hooked: #{lines}"
  end
end

assert("a set-uid process loads no script, even with the library loaded into it") do
  skip "needs root (a set-uid program and a system library directory)" unless Process.uid.zero?
  libdir = target_bits == 32 ? "/usr/lib32" : "/usr/lib/#{`gcc -print-multiarch`.strip}"
  skip "no #{libdir} for this target's secure-mode preload" unless File.directory?(libdir)
  name = "libhijack-bintest-#{Process.pid}.so"
  lib = File.join(libdir, name)
  dir = Dir.mktmpdir("hijack-suid", "/tmp")
  begin
    # In secure mode the loader preloads only set-uid libraries of its own
    # directories, named without a slash: there the library does load.
    FileUtils.cp(library, lib)
    File.chmod(0o4755, lib)
    File.chmod(0o755, dir)
    prog = File.join(dir, "hcat")
    FileUtils.cp(program("hcat"), prog)
    log = write("#{dir}/log", "")
    File.chmod(0o666, log)
    # (env sets the variables after setpriv: only the program is preloaded)
    env = ["env", "LD_PRELOAD=#{name}", "HIJACK_LOG=#{log}", 'HIJACK_EVAL=Hijack.log "script loaded"']
    [0o4755, 0o755].map do |mode|
      File.chmod(mode, prog)
      File.write(log, "")
      maps, st = Open3.capture2("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *env, prog, "/proc/self/maps")
      assert_true st.success? && maps.include?(name), "the library is mapped in the #{mode.to_s(8)} program"
      File.read(log)
    end => [setuid, plain]
    assert_equal ["", "script loaded\n"], [setuid, plain]
  ensure
    FileUtils.rm_f(lib)
    FileUtils.rm_rf(dir)
  end
end
