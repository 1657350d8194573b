require_relative "helper"
include HijackBintest

# Every call of the table, made by the program build.rs generates from
# src/table/calls.tab (test/programs/exercise.rs): each under a hook that checks
# its arguments as the hook sees them and forces EIO, then the result and
# errno the program got.

assert("the exercise program makes every call of the table for this target") do
  names = Exercise.calls.keys
  listed = hijack("list", "--functions")[0].lines.map { |l| l.split.first }
  assert_equal listed, names
end

assert("every call of the table: the hook sees its arguments, a forced EIO reaches the program as the convention says") do
  in_tmpdir do |dir|
    log = "#{dir}/log"
    out, err, st = hijack("run", "-s", Exercise.script(dir), "--", exercise, env: { "HIJACK_LOG" => log })
    returning = Exercise.calls.reject { |_n, c| c[1] }
    missing = returning.keys - Exercise.hooked(log)
    shown = File.read(log).lines.grep(/ showed /).join
    assert_equal [], missing, "calls whose hook did not see the arguments made:\n#{shown}"
    wrong = out.lines.grep(/: wrong: /)
    assert_equal [], wrong
    results = out.lines.to_h { |l| l.chomp.split(": ", 2) }
    returning.each do |name, (convention, _ends, _desc)|
      assert_equal convention == "none" ? "made" : "failed as forced", results[name], name
    end
    assert_equal [0, ""], [st.exitstatus, without_loader_noise(err)]
  end
end

assert("the ends of a process (_exit, _Exit): the hook sees the status, the process ends with it") do
  in_tmpdir do |dir|
    Exercise.calls.select { |_n, c| c[1] }.each_key do |name|
      log = "#{dir}/#{name}.log"
      out, _err, st = hijack("run", "-s", Exercise.script(dir), "--", exercise, name, env: { "HIJACK_LOG" => log })
      assert_equal [[name], 0, ""], [Exercise.hooked(log), st.exitstatus, out], name
    end
  end
end

# A trace's lines per exercised call (between the exercise's fences):
# strace's pid prefix dropped, one space around the result's `=` (both align
# it), and an exec's `<unfinished ...>` joined with its `resumed` line.
def fenced(text)
  lines = text.lines.map { |l| l.sub(/^\[pid\s+\d+\] /, "").sub(/\s+= /, " = ").chomp }
  joined = []
  lines.each do |l|
    if (m = l.match(/^<\.\.\. (\w+) resumed>(.*)$/)) && joined.last&.end_with?(" <unfinished ...>")
      joined[-1] = joined[-1].delete_suffix(" <unfinished ...>") + m[2]
    else
      joined << l
    end
  end
  calls = {}
  current = nil
  joined.each do |l|
    if (m = l.match(%r{^unlink\("/nonexistent-hijack-exercise/--(call (\S+)|end)"\)}))
      current = m[2]
    elsif current
      (calls[current] ||= []) << l
    end
  end
  calls
end


assert("the strace format: each function's line is strace's own for the system call it makes (bare, under strace)") do
  # function => the system call its trace lines show (`hijack list --functions`)
  shown = hijack("list", "--functions")[0].lines.to_h { |l| n, _g, sys = l.split.first(3); [n, sys == "-" ? n : sys] }
  # The functions made harmlessly whose system call strace knows.
  knows = Hash.new { |h, n| h[n] = system("strace", "-qq", "-e", "trace=#{n}", "-o", "/dev/null", "true", err: File::NULL) }
  names = Exercise.calls.select { |n, c| c[3] && knows[shown[n]] }.keys
  assert_true names.size > 60, "strace knows the system calls of #{names.size} of the table's functions"
  in_tmpdir do |dir|
    traced = (names.map { |n| shown[n] } + ["unlink"]).uniq.join(",")
    system("strace", "-qq", "-e", "trace=#{traced}", "-e", "signal=none", "-o", "#{dir}/strace.txt", exercise, "--fence", *names,
           out: File::NULL, err: File::NULL)
    exact = (names.map { |n| "#{n}()" } + ["unlink"]).join(",")
    _out, err, _st = hijack("run", "--trace", exact, "-o", "#{dir}/hijack.txt", "--", exercise, "--fence", *names)
    assert_equal "", without_loader_noise(err)
    bare = fenced(File.read("#{dir}/strace.txt"))
    ours = fenced(File.read("#{dir}/hijack.txt"))
    compared = []
    other = []
    names.each do |name|
      sys = shown[name]
      want = (bare[name] || []).select { |l| l.start_with?("#{sys}(") }
      got = (ours[name] || []).select { |l| l.start_with?("#{sys}(") }
      if want.empty?
        # glibc's function makes another call here (renameat2 with no flags:
        # renameat), or none (the vDSO's time)
        other << "#{name} (#{(bare[name] || []).map { |l| l[/\A\w+/] }.join(' ').then { |t| t.empty? ? 'none' : t }})"
        next
      end
      compared << name
      # Structures behind pointers (iovec, msghdr, stat) hijack shows as
      # their address, as the README says: those arguments are compared by
      # position only; so is the process's environment (execv's: hijack's
      # variables are in it, which the new program gets back anyway).
      pointer = %r{\A0x\h+( /\* \d+ vars? \*/)?\z}
      want = want.map do |l|
        args = strace_args(l)
        mine = strace_args(got.first.to_s)
        next l unless args && mine && args.size == mine.size
        args.each_index { |i| args[i] = mine[i] if mine[i].match?(pointer) && args[i].match?(/\A(0x\h+|\{.*\}|\[.*\])( .*)?\z/) }
        # (i386's usleep passes clock_nanosleep a rem of glibc's own, which
        # hijack cannot know: that argument is not compared)
        args[3] = mine[3] if name == "usleep" && target_bits == 32
        l.sub(/\A(\w+)\(.*\) = /) { "#{$1}(#{args.join(', ')}) = " }
      end
      assert_equal want, got, name
    end
    $stderr.puts "compared #{compared.size}: #{compared.join(" ")}; other: #{other.join(", ")}" if ENV["EXERCISE_DEBUG"]
    assert_true compared.size > 60, "compared #{compared.size}: #{compared.join(' ')}; other system calls: #{other.join(', ')}"
  end
end

assert("--trace GROUP: exactly the calls of that group, as `hijack list` groups them; all is every call but the allocator's") do
  # function => [its group, the name its trace lines show: the system call it makes]
  rows = hijack("list", "--functions")[0].lines.to_h { |l| n, g, sys = l.split.first(3); [n, [g, sys == "-" ? n : sys, sys != "-"]] }
  groups = rows.transform_values(&:first)
  shown = ->(n) { rows[n][1] }
  made = Exercise.calls.select { |_n, c| c[3] }.keys
  in_tmpdir do |dir|
    { "file" => ["file"], "net" => ["net"], "process" => ["process"], "time" => ["time"], "memory" => ["memory"],
      "all" => %w[file net process time], "all,memory" => %w[file net process time memory] }.each do |spec, members|
      # (the table's functions by their groups: --all-syscalls traces the
      # system calls inside some of them instead, all_syscalls_test.rb)
      hijack("run", "--trace", spec, "-o", "#{dir}/t.txt", "--", exercise, *made, env: symbol_mode)
      traced = File.readlines("#{dir}/t.txt").map { |l| l.sub(/^\[pid\s+\d+\] /, "")[/\A(?:<\.\.\. )?(\w+)/, 1] }.uniq
      # (`all` has the memory calls that make a system call: mmap, not malloc)
      member = ->(g, n) { members.include?(g) || spec == "all" && g == "memory" && rows[n][2] }
      expected = made.select { |n| member.(groups[n], n) }.map(&shown).uniq
      outside = traced.reject { |t| rows.any? { |n, (g, sys, _)| sys == t && member.(g, n) } }
      missed = expected - traced
      assert_equal [[], []], [outside, missed], "--trace #{spec}: calls of other groups, calls of the group not traced"
    end
  end
end
