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
