require_relative "helper"
include HijackBintest

# Real programs, traced by strace -f and by hijack --trace all (issue 16):
# every line hijack writes is one strace writes for the same run, with the
# same system call name and arguments; the share of strace's lines (for the
# calls hijack's table names) that hijack shows is printed per program.

# What the dynamic loader does before a program's own code (and hijack's
# constructor) runs: the lines of each process after its execve, up to its
# first call outside this set.
LOADER = %w[execve brk mmap access openat read newfstatat fstat close pread64 arch_prctl set_tid_address
            set_robust_list rseq mprotect prlimit64 munmap getrandom statfs].freeze

# The bytes a call moves (random ones, timestamps in a database's journal)
# are not compared: the argument's position, by system call.
DATA = { "read" => 1, "write" => 1, "pread64" => 1, "pwrite64" => 1, "recvfrom" => 1, "sendto" => 1, "getrandom" => 0 }.freeze
# Results that are process ids differ from run to run.
PIDS = %w[fork vfork clone clone3 wait4 waitid getpid gettid].freeze
# The calls whose lines are compared: those hijack decodes as strace does.
# Not yet: the structures strace decodes that hijack shows as addresses (but
# files' metadata); the vDSO's clock calls strace cannot see; poll, whose
# count follows the run's timing (the exercise compares its lines). Their
# lines count in the share only.
COMPARED = %w[openat creat close read write pread64 pwrite64 lseek newfstatat statx unlinkat unlink mkdir mkdirat rmdir
              rename renameat access faccessat2 readlink readlinkat fsync fdatasync ftruncate truncate dup dup2 dup3
              chdir fchdir getdents64 chmod fchmod connect sendto recvfrom shutdown execve exit_group
              socket socketpair setsockopt getsockopt fcntl pipe2 copy_file_range gettid clone getcwd wait4 readv writev getsockname getpeername accept accept4 mmap munmap mprotect].freeze

# strace -f lines (with -o: "PID name(...) = r") or hijack's ("[pid P] ..."),
# as [pid, name, normalized line, stack]. Addresses, structures (but files'
# metadata, which both abbreviate alike) and arrays compare by position only
# (hijack shows some as addresses), so does the size of an environment (hijack's variables are in it); interrupted and
# resumed lines are joined. strace -k's stack lines (" > lib(symbol+off)")
# go with the call before them.
def trace_calls(text, pid_prefix)
  pending = {}
  out = []
  text.each_line do |raw|
    raw = raw.chomp
    if raw.start_with?(" > ")
      out.last[3] << raw[3..-1] if out.last
      next
    end
    pid = raw[pid_prefix, 1] or next
    line = raw.sub(pid_prefix, "").strip
    next if line.start_with?("+++", "---")
    # (strace -k sometimes writes a call's first stack line on the line of
    # the call it has not finished, without " <unfinished ...>": `close(2 >
    # /usr/lib/.../libc.so.6(_exit+0x29) [0xd4409]`, its result on a
    # `<... close resumed>` line later)
    if (m = line.match(/\A(\w+\(.*?) > (\S+\(.*\) \[0x\h+\])\z/))
      line = "#{m[1]} <unfinished ...>"
    end
    if (m = line.match(/\A(.*) <unfinished \.\.\.>\z/))
      pending[pid] = m[1]
      next
    elsif (m = line.match(/\A<\.\.\. \w+ resumed>(.*)\z/))
      line = "#{pending.delete(pid)}#{m[1]}"
    end
    name = line[/\A(\w+)\(/, 1] or next
    args = strace_args(line) || []
    # (files' metadata compares as decoded: strace's abbreviation, the mode and size)
    args = args.map do |a|
      next a if a.start_with?("{st_mode=", "{stx_mask=")
      a.match?(/\A(0x\h+|\{.*\}|\[\{.*\}\]|NULL)( \/\*.*\*\/)?\z/) ? "*" : a.sub(/\A(\w+=)0x\h+\z/, '\\1*')
    end
    args[DATA[name]] = "*" if DATA[name] && args[DATA[name]]
    result = line[/\) += (.*)\z/, 1].to_s.sub(/\A0x\h+/, "*").sub(/ <\d+\.\d+>\z/, "")
    result = result.sub(/\A[1-9]\d*/, "*") if PIDS.include?(name)
    out << [pid, name, "#{name}(#{args.join(', ')}) = #{result}", []]
  end
  out
end


# hijack writes an exec's line before it is made; one that failed resumes
# (`<... execve resumed>) = -1 ENOENT`), one that succeeded does not: the
# next line of its process is the new program's. That one reads `= 0`, as
# strace writes it.
def exec_results(text)
  lines = text.lines
  pending = {}
  lines.each_with_index do |l, i|
    pid = l[/\A\[pid (\d+)/, 1] or next
    if (j = pending.delete(pid)) && !l.include?("<... execve resumed>")
      lines[j] = lines[j].sub(/ <unfinished \.\.\.>$/, ") = 0")
    end
    pending[pid] = i if l.match?(/\] execve\(.* <unfinished \.\.\.>$/)
  end
  pending.each_value { |j| lines[j] = lines[j].sub(/ <unfinished \.\.\.>$/, ") = 0") }
  lines.join
end

# The calls a program made through a function of hijack's table: the C
# library's function (the stack's first frame, by any of its names:
# __open64, __libc_read) was called from outside the C library and the
# loader (the program, or another library). Not the calls of the libraries'
# constructors, which the loader runs (the stack ends in it): some run
# before hijack's own (libselinux's, under ls).
def through_the_table(calls, functions)
  calls.select do |_p, _n, _l, stack|
    first, caller = stack[0], stack[1]
    next false unless first && caller && first.include?("/libc.so")
    next false if caller.include?("/libc.so") || caller.include?("/ld-linux")
    next false if stack.last.include?("/ld-linux")
    symbol = first[/\(([^+)]*)/, 1].to_s.sub(/\A_+/, "").sub(/\A(GI_+)?(libc_)?/, "")
    functions.include?(symbol)
  end
end

# The lines of `calls` that are not the loader's.
def after_loader(calls)
  in_loader = Hash.new(false)
  calls.reject do |pid, name, _|
    in_loader[pid] = true if name == "execve"
    in_loader[pid] = false if in_loader[pid] && !LOADER.include?(name)
    in_loader[pid]
  end
end

def compare_program(label, command, dir)
  visible = hijack("list")[0].lines.map { |l| l.split.first }
  functions = hijack("list", "--functions")[0].lines.map { |l| l.split.first }
  # (each run from the same state, with the same standard input, and
  # standard error a file in both)
  command = "cd '#{dir}' && #{command}"
  fresh = -> { %w[out g db].each { |f| File.delete("#{dir}/#{f}") if File.exist?("#{dir}/#{f}") } }
  fresh.call
  system("strace", "-f", "-k", "-qq", "-o", "#{dir}/strace.txt", "sh", "-c", command, in: File::NULL, out: File::NULL, err: "#{dir}/err-bare")
  fresh.call
  ok = system(exe, "run", "--trace", "all", "-o", "#{dir}/hijack.txt", "--", "sh", "-c", command,
              in: File::NULL, out: File::NULL, err: "#{dir}/err")
  assert_true ok, "#{label}: #{File.read("#{dir}/err")}"
  all = trace_calls(File.read("#{dir}/strace.txt"), /\A(\d+) +/)
  ours = trace_calls(exec_results(File.read("#{dir}/hijack.txt")), /\A\[pid (\d+)(?: tid \d+)?\] /)
  left = Hash.new(0)
  all.each { |_p, _n, l| left[l] += 1 }
  matched = ours.select do |_p, _n, l|
    next false unless left[l] > 0
    left[l] -= 1
  end
  unmatched = (ours - matched).select { |_p, n, _| COMPARED.include?(n) }
  # the share: of strace's lines for the calls hijack's table names, after
  # each program's loader
  bare = after_loader(all).select { |_p, n, _| visible.include?(n) }
  $stderr.puts format("%-26s %5d of strace's %5d lines (%.2f)", label, matched.size, bare.size,
                      bare.empty? ? 0 : matched.size.fdiv(bare.size)) if ENV["PROGRAMS_DEBUG"]
  assert_equal [], unmatched.map { |c| c[2] }.first(15), "#{label}: hijack's lines not in strace's"
  # the other way: what the program made through the table's functions is
  # in hijack's trace
  mine = Hash.new(0)
  ours.each { |_p, _n, l, _s| mine[l] += 1 }
  through = through_the_table(all, functions)
  missed = through.reject do |_p, _n, l, _s|
    next false unless mine[l] > 0
    mine[l] -= 1
  end
  $stderr.puts format("%-26s %5d of the %5d calls made through the table's functions", "", through.size - missed.size,
                      through.size) if ENV["PROGRAMS_DEBUG"]
  missed.each { |c| $stderr.puts "    missing: #{c[2]}" } if ENV["PROGRAMS_DEBUG"] == "2"
  assert_equal [], missed.select { |_p, n, _l, _s| COMPARED.include?(n) }.map { |c| "#{c[2]}  (#{c[3][0]})" }.first(15),
               "#{label}: calls made through the table's functions missing from hijack's trace"
  assert_true matched.size > 0, "#{label}: no line of hijack's is strace's"
end

assert("real programs: each line of hijack's trace is one of strace's for the same run") do
  native_programs_only("coreutils, curl, git, sqlite3, python3")
  in_tmpdir do |dir|
    write("#{dir}/f", "hello\n" * 1000)
    system("git", "init", "-q", "#{dir}/repo")
    with_http_server do |port|
      [["cat f > out", "cat f > out"],
       ["cat f | cat", "cat f | cat > /dev/null"],
       ["ls -la /usr/bin", "ls -la /usr/bin > /dev/null"],
       ["curl (local server)", "curl -s http://127.0.0.1:#{port}/ > /dev/null"],
       ["gzip -c f > g", "gzip -c f > g"],
       ["git status", "cd repo && git status > /dev/null"],
       ["sqlite3", "sqlite3 db 'create table if not exists t(x); insert into t values(1); select count(*) from t;' > /dev/null"],
       ["python3 -c 'import json'", "#{python} -c 'import json'"]].each do |label, command|
        compare_program(label, command, dir)
      end
    end
  end
end
