require_relative "helper"
include HijackBintest

assert("hijack run: a hook denies one path and lets another through") do
  in_tmpdir do |dir|
    write("#{dir}/notes.txt", "just notes\n")
    write("#{dir}/secret.txt", "top secret\n")
    script = write("#{dir}/deny.rb", <<~RUBY)
      Hijack.on(:open, :open64, :openat, :openat64) do |call|
        raise Errno::EACCES if call.path.to_s.end_with?("secret.txt")
        call.proceed
      end
    RUBY
    out, err, st = hijack("run", "-s", script, "--", cat, "#{dir}/notes.txt")
    assert_equal ["just notes\n", "", 0], [out, err, st.exitstatus]
    out, err, st = hijack("run", "-s", script, "--", cat, "#{dir}/secret.txt")
    assert_equal "", out
    assert_include err, "#{dir}/secret.txt: Permission denied"
    assert_equal 1, st.exitstatus
  end
end

assert("hijack run: the bundled deny-secret example") do
  in_tmpdir do |dir|
    write("#{dir}/notes.txt", "notes\n")
    write("#{dir}/my-secret-key", "key\n")
    out, err, st = hijack("run", "-s", "#{ROOT}/examples/deny-secret.rb", "--",
                          cat, "#{dir}/notes.txt", "#{dir}/my-secret-key")
    assert_equal "notes\n", out
    assert_include err, %(hijack: denied open)
    assert_include err, "my-secret-key: Permission denied"
    assert_equal 1, st.exitstatus
  end
end

assert("hijack run: a hook counts reads, and sees each one's fd and result") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "x" * 300_000)
    log = "#{dir}/hijack.log"
    # (LC_ALL=C: no locale file is read on fd 3 first, as --all-syscalls
    # would see)
    out, err, st = hijack("run", "-s", "#{ROOT}/examples/count-reads.rb", "--", cat, data,
                          env: { "HIJACK_LOG" => log, "LC_ALL" => "C" })
    assert_equal [300_000, "", 0], [out.size, err, st.exitstatus]
    lines = File.readlines(log)
    reads = lines.map { |l| l.match(/\Aread #(\d+) fd=(\d+) count=(\d+) -> (-?\d+) \(\d+ ns\)$/) }
    assert_true reads.all?, "every line is a read: #{lines.inspect}"
    assert_equal (1..reads.size).map(&:to_s), reads.map { |m| m[1] }
    from_file = reads.select { |m| m[2] == "3" }.map { |m| m[4].to_i }
    assert_equal 300_000, from_file.sum
    assert_equal 0, from_file.last
  end
end

assert("hijack run: -e code, several scripts, hooks chained in order") do
  in_tmpdir do |dir|
    a = write("#{dir}/a.rb", %(Hijack.on(:openat, :open) { |c| Hijack.log "a \#{File.basename(c.path)}"; c.proceed }\n))
    b = write("#{dir}/b.rb", %(Hijack.on(:openat, :open) { |c| Hijack.log "b"; c.proceed }\n))
    write("#{dir}/f", "f\n")
    out, err, st = hijack("run", "-s", a, "-s", b, "-e", %(Hijack.log "loaded -e"), "--", cat, "#{dir}/f")
    assert_equal ["f\n", 0], [out, st.exitstatus]
    assert_equal "loaded -e", err.lines.first.chomp
    assert_include err, "a f\nb\n"
  end
end

assert("hijack run: a syntax error is reported as FILE:LINE and nothing runs") do
  in_tmpdir do |dir|
    script = write("#{dir}/broken.rb", "Hijack.on(:read) do |call|\n  call.proceed(\nend\n")
    marker = "#{dir}/marker"
    out, err, st = hijack("run", "-s", script, "--", "touch", marker)
    assert_equal ["", 2], [out, st.exitstatus]
    assert_match "#{script}:3: syntax error*", err
    assert_false File.exist?(marker)
  end
end

assert("hijack run: a missing script is exit 2, naming it") do
  out, err, st = hijack("run", "-s", "/nonexistent/hooks.rb", "--", "true")
  assert_equal ["", 2], [out, st.exitstatus]
  assert_include err, "/nonexistent/hooks.rb"
end

assert("hijack run: an exception in a hook is reported once; the program is unharmed") do
  in_tmpdir do |dir|
    script = write("#{dir}/boom.rb", "Hijack.on(:read) do |call|\n  raise \"boom\"\nend\n")
    data = write("#{dir}/data", "y" * 300_000)
    out, err, st = hijack("run", "-s", script, "--", cat, data)
    assert_equal [300_000, 0], [out.size, st.exitstatus]
    assert_equal 1, err.lines.size, err
    assert_match "hijack: #{script}:2*RuntimeError: boom*in a hook on read*", err
  end
end

assert("hijack run: errno of the real call reaches the program through a hook") do
  out, err, st = hijack("run", "-e", %(Hijack.on(:open, :openat) { |c| Hijack.log "open"; c.proceed }),
                        "--", cat, "/nonexistent/file", env: { "LC_ALL" => "C" })
  assert_equal ["", 1], [out, st.exitstatus]
  assert_include err, "/nonexistent/file: No such file or directory"
end

assert("hijack run: the command replaces hijack (same pid, same exit status)") do
  Open3.popen3(exe, "run", "-e", "", "--", "sh", "-c", "echo $$; exit 7") do |stdin, stdout, _stderr, thread|
    stdin.close
    assert_equal thread.pid.to_s, stdout.read.chomp
    assert_equal 7, thread.value.exitstatus
  end
end

assert("hijack run: a command that cannot be found is 127") do
  _out, err, st = hijack("run", "-e", "", "--", "no-such-command-anywhere")
  assert_equal 127, st.exitstatus
  assert_include err, "cannot run no-such-command-anywhere: No such file or directory"
end

assert("a script broken at load time, set by hand, leaves the program unhooked") do
  in_tmpdir do |dir|
    script = write("#{dir}/raises.rb", "Hijack.on(:read) { |c| 0 }\nraise ArgumentError, \"bad setup\"\n")
    data = write("#{dir}/data", "z\n")
    out, err, st = Open3.capture3({ "LD_PRELOAD" => library, "HIJACK_SCRIPT" => script }, cat, data)
    assert_equal ["z\n", 0], [out, st.exitstatus]
    assert_match "hijack: #{script}:2*ArgumentError: bad setup*the program runs unhooked*", err
  end
end

assert("the preload library exports exactly the calls of `hijack list`") do
  listed = hijack("list", "--functions")[0].lines.map { |l| l.split.first }.sort
  exported = `nm -D --defined-only #{library}`.lines.map { |l| l.split.last }.sort
  assert_equal listed, exported
end

assert("the runner does not interpose its own calls") do
  defined = `nm --defined-only #{exe}`.lines.map { |l| l.split.last }
  listed = hijack("list", "--functions")[0].lines.map { |l| l.split.first }
  assert_equal [], listed & defined
end

assert("a process started by exec runs the scripts at its first hooked call: one that makes none never does, unless they have exit work") do
  native_programs_only("sh, rm and true")
  in_tmpdir do |dir|
    write("#{dir}/victim", "x")
    tree = "/bin/true; rm -f #{dir}/victim; /bin/true; echo done"
    code = %(Hijack.log "loaded"; Hijack.before(:unlinkat) { raise Errno::EACCES })
    out, err, st = hijack("run", "-e", code, "--", "sh", "-c", tree)
    assert_equal ["done\n", 0], [out, st.exitstatus]
    # sh (the first process, which runs them at its start) and rm (at its
    # unlinkat, which the hook then denies); not the two trues
    assert_equal 2, err.scan("loaded").size, err
    assert_include err, "Permission denied"
    assert_true File.exist?("#{dir}/victim"), "the first hooked call of a process is hooked"
    # exit work: each process that exits runs it (and so the scripts)
    out, err, st = hijack("run", "-e", %(Hijack.log "loaded"; Hijack.at_exit { Hijack.log "exit work" }), "--", "sh", "-c", "/bin/true; /bin/true; echo done")
    assert_equal ["done\n", 0], [out, st.exitstatus]
    assert_equal [3, 3], [err.scan("loaded").size, err.scan("exit work").size], err
    # HIJACK_LAZY=0: every process at its start
    _out, err, st = hijack("run", "-e", code, "--", "sh", "-c", tree, env: { "HIJACK_LAZY" => "0" })
    assert_equal [0, 4], [st.exitstatus, err.scan("loaded").size], err
    # a hook registered in a child only: said, naming the call
    write("#{dir}/victim", "x")
    marker = "#{dir}/marker"
    only_later = %(Hijack.before(:unlinkat) { }; Hijack.before(:fchmodat) { } if File.exist?(#{marker.inspect}))
    _out, err, st = hijack("run", "-e", only_later, "--", "sh", "-c", "touch #{marker}; rm -f #{dir}/victim")
    assert_equal 0, st.exitstatus, err
    assert_equal 1, err.scan("hijack: the scripts hook fchmodat in this process but not in the one that started it").size, err
  end
end
