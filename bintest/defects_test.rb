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
    hooks = 'Hijack.before(:execve, :execv, :execvp, :execvpe) { |c| Hijack.log "exec hook #{c.name} #{c.path}" }'
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
