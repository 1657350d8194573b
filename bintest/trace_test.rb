require_relative "helper"
include HijackBintest

# Tracing (issue 6): strace-compatible lines, JSON lines, Chrome traces, and
# the summary.

def jsonl_lines(path)
  File.readlines(path).map { |l| JSON.parse(l) }
end

assert("--trace in strace format: the same lines as strace for the calls both see") do
  native_programs_only("strace and cat")
  in_tmpdir do |dir|
    data = write("#{dir}/data", "line one\nline two \"quoted\"\t\x01\n")
    ours = "#{dir}/hijack.trace"
    theirs = "#{dir}/strace.trace"
    out1, _err, st = hijack("run", "--trace", "open,read,write,close", "-o", ours, "--", "cat", data)
    assert_equal 0, st.exitstatus
    out2, _err, st = Open3.capture3("strace", "-o", theirs, "-e", "trace=openat,read,write,close", "cat", data)
    assert_equal [out1, 0], [out2, st.exitstatus]
    pick = lambda do |lines|
      after_open = lines.drop_while { |l| !l.include?(data.inspect) }.drop(1)
      after_open.map { |l| l.sub(/\A\[pid \d+\] /, "").sub(/\A\d+ +/, "").strip }
                .grep(/\A(read|write)\(|\Aclose\(3\)/)
    end
    ours_lines = pick.call(File.readlines(ours))
    theirs_lines = pick.call(File.readlines(theirs))
    assert_true ours_lines.size >= 3, ours_lines.inspect
    assert_equal theirs_lines, ours_lines
  end
end

assert("strace format: failures with their errno name and text, -T, and the pid on every line") do
  in_tmpdir do |dir|
    trace = "#{dir}/t"
    _out, _err, _st = hijack("run", "--trace", "file", "-T", "-o", trace, "--", cat, "/nonexistent/x")
    lines = File.readlines(trace)
    failed = lines.find { |l| l.include?('"/nonexistent/x"') }
    # (cat calls open(): its line is the openat it makes, as strace shows it)
    assert_true failed.match?(/\A\[pid \d+\] openat\(AT_FDCWD, "\/nonexistent\/x", O_RDONLY(\|O_LARGEFILE)?\) +\= -1 ENOENT \(No such file or directory\) <\d+\.\d{6}>$/), failed
    assert_true lines.all? { |l| l.start_with?("[pid ") }
  end
end

assert("--format jsonl: one parseable object per call") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "x" * 100)
    trace = "#{dir}/t.jsonl"
    _out, _err, st = hijack("run", "--trace", "file", "--format", "jsonl", "-o", trace, "--", cat, data, "#{dir}/missing")
    assert_equal 1, st.exitstatus
    lines = jsonl_lines(trace)
    lines.each { |l| assert_equal %w[args call errno function ns pid result syscall tid ts], l.keys.sort }
    read = lines.find { |l| l["call"] == "read" && l["result"] == 100 }
    assert_equal "x" * 32, read["args"]["buf"], "buffers cut at --strsize (32)"
    missing = lines.find { |l| l["args"]["path"] == "#{dir}/missing" }
    assert_equal ["ENOENT", -1], [missing["errno"], missing["result"]]
    # the name hooks see, the system call made, the function called
    assert_equal ["openat", "openat"], [missing["call"], missing["syscall"]]
    assert_include %w[open open64], missing["function"]
  end
end

assert("--format chrome: a trace Perfetto opens, one track per process, a slice per call") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "d\n")
    trace = "#{dir}/t.json"
    _out, _err, st = hijack("run", "--trace", "file", "--format", "chrome", "-o", trace, "--", "sh", "-c", "#{cat} #{data}")
    assert_equal 0, st.exitstatus
    text = File.read(trace)
    assert_true text.start_with?("[\n")
    events = JSON.parse(text.sub(/,\s*\z/, "") + "]")
    names = events.select { |e| e["ph"] == "M" && e["name"] == "process_name" }.map { |e| e["args"]["name"] }
    assert_include names, File.basename(cat)
    slices = events.select { |e| e["ph"] == "X" }
    assert_true slices.size > 2
    slices.each { |e| assert_equal %w[args cat dur name ph pid tid ts], e.keys.sort }
  end
end

assert("4 threads writing, traced: no torn or lost line") do
  in_tmpdir do |dir|
    trace = "#{dir}/t.jsonl"
    _out, _err, st = hijack("run", "--trace", "write", "--format", "jsonl", "-o", trace, "--", program("writers"), "4", "250")
    assert_equal 0, st.exitstatus
    lines = jsonl_lines(trace)
    writes = lines.select { |l| l["call"] == "write" && l["args"]["count"] == 20 }
    assert_equal 1000, writes.size
    assert_equal 4, writes.map { |l| l["tid"] }.uniq.size
  end
end

assert("a process killed by SIGTERM mid-run: every line written whole") do
  in_tmpdir do |dir|
    trace = "#{dir}/t.jsonl"
    pid = Process.spawn(exe, "run", "--trace", "write", "--format", "jsonl", "-o", trace, "--",
                        program("writers"), "2", "100000000")
    assert_true wait_until { File.exist?(trace) && File.size(trace) > 100_000 }, "the trace grows"
    Process.kill("TERM", pid)
    Process.wait(pid)
    lines = File.readlines(trace)
    assert_true lines.size > 10
    # The kernel cuts a write(2) in progress when a fatal signal kills the
    # process at a page boundary of the file (mm/filemap.c checks for one
    # between pages): the very last line may end there, without its newline.
    # Every other line is whole; none is torn or interleaved mid-file.
    last = lines.last
    lines.pop unless last.end_with?("\n")
    assert_true lines.all? { |l| l.end_with?("\n") && JSON.parse(l) }, "every line is whole JSON"
  end
end

assert("--summary: per-call totals that equal the sum of the traced calls, for the whole tree") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "s" * 1000)
    trace = "#{dir}/t.jsonl"
    out, err, st = hijack("run", "--summary", "--trace", "open,read,write,close", "--format", "jsonl", "-o", trace,
                          "--", "sh", "-c", "#{cat} #{data} #{data}; #{cat} #{dir}/missing; exit 3",
                          env: { "LC_ALL" => "C" }) # (no locale file read, which --all-syscalls would count)
    assert_equal 3, st.exitstatus
    assert_equal 2000, out.size
    lines = jsonl_lines(trace)
    table = err.lines.grep(/^ *\d+\.\d+ /)
    %w[open read write close].each do |call|
      row = table.find { |l| l.split.last == call }
      next assert_equal 0, lines.count { |l| l["call"] == call } unless row
      assert_equal lines.count { |l| l["call"] == call }, row.split[3].to_i, "#{call}: #{row}"
    end
    read_row = table.find { |l| l.split.last == "read" }
    assert_include read_row, " 2000 ", "bytes read"
    total = err.lines.find { |l| l.strip.end_with?("total") }
    assert_equal lines.size, total.split[2].to_i
  end
end

assert("--summary: a command killed by a signal exits 128+N") do
  _out, _err, st = hijack("run", "--summary", "--", "sh", "-c", "kill -TERM $$")
  assert_equal 143, st.exitstatus
end

assert("bad trace flags are refused before the command starts") do
  assert_usage_error("--trace nosuchcall: unknown call nosuchcall", "run", "--trace", "nosuchcall", "--", "true")
  assert_usage_error("--format xml: expected strace, jsonl or chrome", "run", "--trace", "file", "--format", "xml", "--", "true")
end
