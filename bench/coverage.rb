# The coverage of `hijack run --all-syscalls`, per program: the system calls
# `strace -f` shows a bare run make after the point where hijack's library
# starts (a marker library preloaded in its place, bench/mark.c), which
# `hijack run --all-syscalls --trace all,memory` does not show for the same
# command. Counted by name: for each name, how many more strace saw. vDSO
# calls are in neither. Required by bench/run.rb; `ruby bench/coverage.rb`
# prints the table alone.
require "fileutils"
require "open3"
require "socket"
require "tmpdir"

module Coverage
  module_function

  MARK = "/hijack-coverage-mark".freeze

  # The files the programs work on, made afresh in `dir` for each run (a
  # second run of sqlite3 or git on the first's files makes other calls).
  def files(dir)
    FileUtils.rm_rf(dir)
    FileUtils.mkdir_p(dir)
    File.write("#{dir}/f", "coverage\n" * 1000)
    File.write("#{dir}/g", "gzip me\n" * 1000)
    system("git", "init", "-q", "#{dir}/repo") && File.write("#{dir}/repo/a", "a\n")
  end

  # The programs, as issue 17 names them: name => argv (run in the files'
  # directory).
  def programs(port)
    {
      "cat f > out" => ["sh", "-c", "cat f > out"],
      "ls -la" => ["ls", "-la", "/usr/bin"],
      "curl (local server)" => ["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:#{port}/"],
      "gzip" => ["gzip", "-c", "g"],
      "git status" => ["git", "-C", "repo", "status", "--short"],
      "sqlite3" => ["sqlite3", "db", "create table if not exists t(x); insert into t values (1); select count(*) from t;"],
      # (Debian's: a python3 first on PATH may be a shell script, pyenv's)
      "python3 (json, os.listdir)" => [File.exist?("/usr/bin/python3") ? "/usr/bin/python3" : "python3", "-c", "import json, os; os.listdir('/')"],
    }
  end

  # strace's calls after each process's marker, by name.
  def strace_calls(file)
    counting = Hash.new(true)
    first = nil
    counts = Hash.new(0)
    File.foreach(file) do |line|
      pid, rest = line.split(" ", 2)
      next unless rest
      first ||= pid
      counting[pid] = false if pid == first && !counting.key?(pid)
      if rest.start_with?("<... ")
        # (an exec that succeeded: the new program's calls count from its marker)
        counting[pid] = false if rest.start_with?("<... execve resumed>") && rest.match?(/= 0$/)
        next
      end
      name = rest[/\A(\w+)\(/, 1] or next
      if name == "faccessat" && rest.include?(MARK)
        counting[pid] = true
        next
      end
      counts[name] += 1 if counting[pid]
      counting[pid] = false if name == "execve" && rest.match?(/= 0$/)
    end
    counts
  end

  # hijack's trace, by name.
  def hijack_calls(file)
    counts = Hash.new(0)
    File.foreach(file) do |line|
      rest = line.sub(/\A\[pid +\d+(?: tid \d+)?\] /, "")
      name = rest[/\A(\w+)\(/, 1] or next
      counts[name] += 1
    end
    counts
  end

  def serve(server)
    Thread.new do
      loop do
        client = begin
          server.accept
        rescue IOError
          break
        end
        client.readpartial(4096) rescue nil
        client.write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        client.close
      end
    end
  end

  # [[program, strace's calls, missing, {name => n}]]
  def measure(root, hijack)
    Dir.mktmpdir("hijack-coverage") do |dir|
      mark = File.join(dir, "mark.so")
      system("cc", "-O2", "-shared", "-fPIC", "-o", mark, File.join(root, "bench", "mark.c")) or raise "cannot build bench/mark.c"
      server = TCPServer.new("127.0.0.1", 0)
      serve(server)
      work = File.join(dir, "work")
      rows = programs(server.addr[1]).map do |name, argv|
        next [name, nil, nil, nil, "#{argv[0]} not installed"] unless system("sh", "-c", "command -v #{argv[0]} >/dev/null")
        theirs = File.join(dir, "strace.txt")
        ours = File.join(dir, "trace.txt")
        files(work)
        Open3.capture3({ "LD_PRELOAD" => mark }, "strace", "-f", "-qq", "-e", "signal=none", "-o", theirs, *argv, chdir: work)
        files(work)
        Open3.capture3(hijack, "run", "--all-syscalls", "--trace", "all,memory", "-o", ours, "--", *argv, chdir: work)
        s = strace_calls(theirs)
        h = hijack_calls(ours)
        missing = s.to_h { |n, c| [n, c - h[n]] }.select { |_, d| d.positive? }
        [name, s.values.sum, missing.values.sum, missing]
      ensure
        FileUtils.rm_f([theirs, ours].compact)
      end
      server.close
      rows
    end
  end

  def table(rows)
    lines = ["| program | calls strace shows | not seen by --all-syscalls | which (strace's count more) |",
             "|---|---:|---:|---|"]
    rows.each do |name, total, missing, which|
      next lines << "| #{name} | n/a | | #{which} |" if total.nil?
      shown = which.sort_by { |n, d| [-d, n] }.map { |n, d| "#{n} #{d}" }.join(", ")
      lines << "| #{name} | #{total} | #{missing} | #{shown} |"
    end
    lines
  end
end

if $PROGRAM_NAME == __FILE__
  root = File.expand_path("..", __dir__)
  puts Coverage.table(Coverage.measure(root, File.join(root, "build", "host", "bin", "hijack")))
end
