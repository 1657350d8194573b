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
# Not yet: fork (strace shows the clone(...) glibc makes), getcwd(NULL, 0)
# (the buffer glibc allocates), the other structures strace decodes that
# hijack shows as addresses; and the
# vDSO's clock calls strace cannot see; poll, whose count follows the run's
# timing (the exercise compares its lines). Their lines count in the share only.
COMPARED = %w[openat creat close read write pread64 pwrite64 lseek newfstatat statx unlinkat unlink mkdir mkdirat rmdir
              rename renameat access faccessat2 readlink readlinkat fsync fdatasync ftruncate truncate dup dup2 dup3
              chdir fchdir getdents64 chmod fchmod connect sendto recvfrom shutdown execve exit_group
              socket socketpair setsockopt getsockopt fcntl pipe2 copy_file_range gettid].freeze

# strace -f lines (with -o: "PID name(...) = r") or hijack's ("[pid P] ..."),
# as [pid, name, normalized line]. Addresses, structures and arrays compare
# by position only (hijack shows some as addresses), so does the size of an
# environment (hijack's variables are in it); interrupted and resumed lines
# are joined.
def trace_calls(text, pid_prefix)
  pending = {}
  out = []
  text.each_line do |raw|
    raw = raw.chomp
    pid = raw[pid_prefix, 1] or next
    line = raw.sub(pid_prefix, "").strip
    next if line.start_with?("+++", "---")
    if (m = line.match(/\A(.*) <unfinished \.\.\.>\z/))
      pending[pid] = m[1]
      next
    elsif (m = line.match(/\A<\.\.\. \w+ resumed>(.*)\z/))
      line = "#{pending.delete(pid)}#{m[1]}"
    end
    name = line[/\A(\w+)\(/, 1] or next
    args = strace_args(line) || []
    args = args.map { |a| a.match?(/\A(0x\h+|\{.*\}|\[\{.*\}\]|NULL)( \/\*.*\*\/)?\z/) ? "*" : a }
    args[DATA[name]] = "*" if DATA[name] && args[DATA[name]]
    result = line[/\) += (.*)\z/, 1].to_s.sub(/\A0x\h+/, "*").sub(/ <\d+\.\d+>\z/, "")
    result = result.sub(/\A[1-9]\d*/, "*") if PIDS.include?(name)
    out << [pid, name, "#{name}(#{args.join(', ')}) = #{result}"]
  end
  out
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
  # (each run from the same state, with the same standard input)
  command = "cd '#{dir}' && #{command}"
  fresh = -> { %w[out g db].each { |f| File.delete("#{dir}/#{f}") if File.exist?("#{dir}/#{f}") } }
  fresh.call
  system("strace", "-f", "-qq", "-o", "#{dir}/strace.txt", "sh", "-c", command, in: File::NULL, out: File::NULL, err: File::NULL)
  fresh.call
  ok = system(exe, "run", "--trace", "all", "-o", "#{dir}/hijack.txt", "--", "sh", "-c", command,
              in: File::NULL, out: File::NULL, err: "#{dir}/err")
  assert_true ok, "#{label}: #{File.read("#{dir}/err")}"
  all = trace_calls(File.read("#{dir}/strace.txt"), /\A(\d+) +/)
  ours = trace_calls(File.read("#{dir}/hijack.txt"), /\A\[pid (\d+)(?: tid \d+)?\] /)
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
  assert_equal [], unmatched.map(&:last).first(15), "#{label}: hijack's lines not in strace's"
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
