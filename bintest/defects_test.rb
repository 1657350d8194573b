require_relative "helper"
include HijackBintest

# Each feature does what its text says: one test per defect found by running
# every example (issue 14), each failing before its fix.

PREAD_LOOP = <<~PY
  import os
  fd = os.open("data", os.O_RDONLY)
  for i in range(30):
      try:
          os.pread(fd, 10, 0)
      except OSError as e:
          print(e.errno)
PY

assert("an injected fault is traced, marked (INJECTED), counted in --summary's errors and seen by top's trace") do
  native_programs_only("python3")
  in_tmpdir do |dir|
    File.write("#{dir}/data", "0123456789")
    out, _err, st = Open3.capture3(exe, "run", "--trace", "pread64", "-o", "#{dir}/t.txt",
                                   "-e", "Hijack.before(:pread64) { raise Errno::EIO }", "--", python, "-c", PREAD_LOOP, chdir: dir)
    assert_equal ["5\n" * 30, 0], [out, st.exitstatus]
    lines = File.readlines("#{dir}/t.txt")
    assert_equal 30, lines.size
    assert_true lines.all? { |l| l.end_with?("= -1 EIO (Input/output error) (INJECTED)\n") }, lines.first
    # --summary with a fault flag: every call counted, the injected ones as errors
    _out, err, st = Open3.capture3(exe, "run", "--quiet", "--summary", "--fail", "pread64:EIO", "--times", "3", "--",
                                   python, "-c", PREAD_LOOP, chdir: dir)
    assert_equal 0, st.exitstatus
    row = err.lines.find { |l| l.split.last == "pread64" }
    assert_equal %w[30 3], row.split[3, 2], row
    # JSON lines (what top reads): the errno and the mark
    Open3.capture3(exe, "run", "--trace", "pread64", "--format", "jsonl", "-o", "#{dir}/t.jsonl",
                   "--fail", "pread64:EIO", "--times", "2", "--", python, "-c", PREAD_LOOP, chdir: dir)
    events = File.readlines("#{dir}/t.jsonl").map { |l| JSON.parse(l) }
    assert_equal 30, events.size
    assert_equal [2, 2], [events.count { |e| e["errno"] == "EIO" }, events.count { |e| e["injected"] }]
  end
end

assert("exec is traced: the line is written before the real call, a failed exec shows its error") do
  native_programs_only("sh")
  in_tmpdir do |dir|
    _out, _err, st = hijack("run", "--trace", "process", "-o", "#{dir}/t.txt", "--", "sh", "-c", "exec /bin/true")
    assert_equal 0, st.exitstatus
    execs = File.readlines("#{dir}/t.txt").grep(/execve\(/)
    assert_equal 1, execs.size
    assert_include execs[0], 'execve("/bin/true", ["/bin/true"], 0x'
    assert_true execs[0].end_with?(" vars */ <unfinished ...>\n"), execs[0]
    _out, _err, st = hijack("run", "--trace", "process", "-o", "#{dir}/f.txt", "--", "sh", "-c", "exec /nonexistent/x")
    assert_equal 127, st.exitstatus
    lines = File.readlines("#{dir}/f.txt").grep(/execve/)
    assert_match '*execve("/nonexistent/x", *<unfinished ...>', lines[0].chomp
    assert_match "*<... execve resumed>) = -1 ENOENT (No such file or directory)", lines[1].chomp
    assert_equal 2, lines.size
    # --summary counts the exec of a command that replaced itself
    _out, err, _st = hijack("run", "--summary", "--trace", "process", "--", "sh", "-c", "exec /bin/true")
    assert_true err.lines.any? { |l| l.split.last == "execve" && l.split[3] == "1" }, err
  end
end

assert("Python's subprocess children: exec hooks fire, Policy.enforce denies and audits, Policy.audit records") do
  native_programs_only("python3")
  in_tmpdir do |dir|
    code = "import subprocess\ntry:\n  print(subprocess.run(['/bin/true']).returncode)\nexcept OSError as e:\n  print('denied', e.errno)\n"
    hooks = 'Hijack.before(:execve, :execv, :execvp, :execvpe) { |c| Hijack.log "exec hook #{c.function} #{c.path}" }'
    out, err, _st = hijack("run", "-e", hooks, "--", python, "-c", code)
    assert_equal "0\n", out
    assert_include err, "exec hook execv /bin/true"
    policy = write("#{dir}/policy.rb", <<~RUBY)
      Hijack::Policy.enforce do
        allow_read "/**"
        allow_write "/dev/**", "/tmp/**"
        allow_exec "#{python}"
        deny_all_else
      end
    RUBY
    out, err, _st = hijack("run", "--policy", policy, "--audit", "#{dir}/audit.jsonl", "--", python, "-c", code)
    assert_equal "denied 1\n", out
    audit = File.readlines("#{dir}/audit.jsonl").map { |l| JSON.parse(l) }
    assert_true audit.any? { |a| a["path"] == "/bin/true" && a["action"] == "denied" }, audit.inspect
    assert_include err, "/bin/true"
    File.write(policy, File.read(policy).sub("enforce", "audit"))
    out, _err, _st = hijack("run", "--policy", policy, "--audit", "#{dir}/audit2.jsonl", "--", python, "-c", code)
    assert_equal "0\n", out
    audit = File.readlines("#{dir}/audit2.jsonl").map { |l| JSON.parse(l) }
    assert_true audit.any? { |a| a["path"] == "/bin/true" && a["action"] == "audited" }, audit.inspect
  end
end

assert("call.errno is 0 after a call that succeeded, whatever errno held before") do
  in_tmpdir do |dir|
    hooks = 'Hijack.after(:open, :open64, :openat, :fstat, :fstat64, :read) { |c| Hijack.log "#{c.name} #{c.result} errno=#{c.errno}" }'
    _out, err, st = hijack("run", "-e", hooks, "--", program("hcat"), "#{dir}/missing", __FILE__)
    assert_equal 1, st.exitstatus
    lines = without_loader_noise(err).lines.grep(/errno=/)
    failed = lines.find { |l| l.include?(" -1 ") }
    assert_include failed, "errno=2"
    ok = lines.reject { |l| l.include?(" -1 ") }
    assert_true ok.size >= 2
    assert_true ok.all? { |l| l.end_with?("errno=0\n") }, ok.join
  end
end

assert("--time with --time-scale: one clock for the whole tree, scaled from one anchor") do
  native_programs_only("sh, date and sleep")
  started = Time.now.to_f
  out, _err, st = hijack("run", "--time", "2030-01-01 00:00:00", "--time-scale", "10", "--",
                         "sh", "-c", "date -u +%s.%N; sleep 1.5; date -u +%s.%N")
  took = Time.now.to_f - started
  assert_equal 0, st.exitstatus
  a, b = out.split.map(&:to_f)
  start = 1_893_456_000
  # Both children tell the time of one clock anchored once, when the run
  # began: the first at the target plus ten times the real time since, the
  # second 1.5 fake seconds later (no process starts its own clock again).
  assert_true a >= start && a <= start + 10 * took, out
  assert_true b - a >= 1.5 && b <= start + 10 * took, out
  started = Time.now.to_f
  out, _err, _st = hijack("run", "--time", "+1d", "--time-scale", "10", "--",
                          "sh", "-c", "date +%s.%N; sleep 1; date +%s.%N")
  took = Time.now.to_f - started
  a, b = out.split.map(&:to_f)
  assert_true b - a >= 1.0 && b - a <= 10 * took, "sleep 1 is one fake second: #{out}"
  assert_true a >= started + 86_400 && a <= started + 86_400 + 10 * took, out
end

assert("Clock.freeze after travel freezes at the travelled time, once for the whole tree") do
  native_programs_only("sh and date")
  code = 'Hijack::Clock.travel "2030-01-01 00:00:00 UTC"; Hijack::Clock.freeze'
  out, _err, st = hijack("run", "-e", code, "--", "sh", "-c", "date -u +%s; sleep 0.2; sh -c 'date -u +%s'; date -u +%s")
  assert_equal 0, st.exitstatus
  assert_equal ["1893456000"] * 3, out.split
end

assert("HIJACK_SEED is honoured by fault flags: the same faults at the same calls, and the seed in each fault line") do
  native_programs_only("python3")
  in_tmpdir do |dir|
    write("#{dir}/data", "0123456789")
    runs = 2.times.map do
      out, err, _st = Open3.capture3({ "HIJACK_SEED" => "42" }, exe, "run", "--fail", "pread64:EIO@0.5", "--",
                                     python, "-c", PREAD_LOOP, chdir: dir)
      [out, err.lines.grep(/^hijack-fault /).map { |l| l.sub(/time=\S+ pid=\d+ tid=\d+ /, "") }]
    end
    assert_equal runs[0], runs[1]
    assert_true runs[0][1].size >= 5 && runs[0][1].size <= 25, runs[0][1].size.to_s
    assert_equal runs[0][1].size, runs[0][0].lines.size
    assert_true runs[0][1].all? { |l| l.include?(" seed=42 ") }
    assert_not_include runs[0].inspect, "faults seeded", "a seed given is not drawn again"
  end
end

assert("drop loses datagrams only: a TCP request goes through, UDP loses about the share asked") do
  native_programs_only("python3")
  in_tmpdir do |dir|
    tcp = <<~PY
      import socket, threading
      srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
      def serve():
          c, _ = srv.accept(); data = b""
          while len(data) < 5000:
              chunk = c.recv(65536)
              if not chunk: break
              data += chunk
          c.sendall(str(len(data)).encode()); c.close()
      threading.Thread(target=serve).start()
      s = socket.create_connection(srv.getsockname())
      for i in range(50): s.send(b"x" * 100)
      print(s.recv(100).decode())
    PY
    out, _err, st = hijack("run", "--quiet", "-e", "Hijack.drop(:send, :sendto, :sendmsg, probability: 0.5)", "--", python, "-c", tcp)
    assert_equal ["5000\n", 0], [out, st.exitstatus]
    udp = <<~PY
      import socket
      r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0)); r.settimeout(0.5)
      s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
      for i in range(200): s.sendto(b"d", r.getsockname())
      n = 0
      try:
          while True: r.recv(10); n += 1
      except socket.timeout: pass
      print(n)
    PY
    out, _err, _st = hijack("run", "--seed", "3", "-e", "Hijack.drop(:sendto, probability: 0.5)", "--", python, "-c", udp)
    assert_true out.to_i > 40 && out.to_i < 160, "about half of 200 datagrams arrive: #{out}"
    reset = "Hijack.drop(:send, :sendto, probability: 1, streams: :reset)"
    out, _err, _st = hijack("run", "-e", reset, "--", python, "-c",
                            "import socket\ns = socket.socket(); srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)\n" \
                            "s.connect(srv.getsockname())\ntry:\n  s.send(b'x')\nexcept OSError as e:\n  print(e.errno)\n")
    assert_equal "104\n", out
  end
end

assert("Hijack.off / disable from inside a hook of the same call takes effect before the next hook runs") do
  in_tmpdir do |dir|
    file = write("#{dir}/f", "x" * 10)
    hooks = <<~RUBY
      h = Hijack.after(:read) { Hijack.log "after fired" }
      Hijack.before(:read) { Hijack.off(h) }
      g = nil
      Hijack.before(:read) { Hijack.log "first"; g.disable }
      g = Hijack.before(:read) { Hijack.log "g fired" }
    RUBY
    _out, err, st = hijack("run", "-e", hooks, "--", program("hcat"), file)
    assert_equal 0, st.exitstatus
    err = without_loader_noise(err)
    assert_not_include err, "after fired"
    assert_not_include err, "g fired"
    assert_true err.scan("first").size >= 1
  end
end

assert("Policy: paths as the kernel sees them (/bin is /usr/bin; a link out of an allowed tree is outside it), DIR/** covers DIR") do
  native_programs_only("sh and cat")
  in_tmpdir do |dir|
    real = File.realpath(dir)
    Dir.mkdir("#{dir}/srv")
    File.symlink("/etc/hostname", "#{dir}/srv/escape")
    policy = write("#{dir}/policy.rb", <<~RUBY)
      Hijack::Policy.enforce do
        allow_read "/**"
        allow_exec "/usr/bin/cat", "/bin/sh", "/usr/bin/rmdir", "/usr/bin/mkdir"
        allow_write "#{real}/srv/**", "/dev/null"
        deny_all_else
      end
    RUBY
    out, err, st = hijack("run", "--policy", policy, "--", "/bin/cat", "/etc/hostname")
    assert_equal [File.read("/etc/hostname"), 0], [out, st.exitstatus], err
    _out, err, st = hijack("run", "--policy", policy, "--", "sh", "-c",
                           "echo new > #{dir}/srv/new && echo ok; echo bad >> #{dir}/srv/escape; rmdir #{dir}/srv/x 2>/dev/null; mkdir #{dir}/srv/sub && rmdir #{dir}/srv/sub && echo dir-ok")
    assert_equal "new\n", File.read("#{dir}/srv/new")
    assert_include err, "#{dir}/srv/escape"
    assert_not_include File.read("/etc/hostname"), "bad"
    _out, err, _st = hijack("run", "--policy", policy, "--", "sh", "-c", "mkdir #{dir}/srv2; true")
    assert_include err, "#{dir}/srv2"
  end
end
