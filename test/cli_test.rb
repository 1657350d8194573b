# mrbtest: the command line's parsing and messages (nothing is executed).
class CollectingIO
  attr_reader :text

  def initialize
    @text = ""
  end

  def puts(*lines)
    lines = [""] if lines.empty?
    lines.each { |l| @text << l.to_s << (l.to_s.end_with?("\n") ? "" : "\n") }
    nil
  end

  def print(*parts)
    parts.each { |p| @text << p.to_s }
    nil
  end
end

def cli(*argv)
  out = CollectingIO.new
  err = CollectingIO.new
  status = Hijack::CLI.new(argv, out, err).main
  [status, out.text, err.text]
end

assert("run options: scripts, code, command after --") do
  o = Hijack::CLI.parse_run(%w[-s a.rb --script b.rb --script=c.rb -e 1 --eval=2 -- cat -s x])
  assert_equal %w[a.rb b.rb c.rb], o.scripts
  assert_equal %w[1 2], o.evals
  assert_equal %w[cat -s x], o.command
end

assert("run options: the command may start without --") do
  o = Hijack::CLI.parse_run(%w[-e 1 ls -l])
  assert_equal %w[ls -l], o.command
end

assert("run options: errors name the problem") do
  e = assert_raise(ArgumentError) { Hijack::CLI.parse_run(%w[-s]) }
  assert_equal "-s needs a value", e.message
  e = assert_raise(ArgumentError) { Hijack::CLI.parse_run(%w[--bogus -- true]) }
  assert_equal "unknown option for run: --bogus", e.message
  e = assert_raise(ArgumentError) { Hijack::CLI.parse_run(%w[-e 1 --]) }
  assert_equal "run needs a command to run", e.message
end

assert("hijack with no command, or an unknown one, is a usage error") do
  status, _out, err = cli
  assert_equal 2, status
  assert_include err, "a command is needed"
  status, _out, err = cli("frobnicate")
  assert_equal 2, status
  assert_include err, "unknown command: frobnicate"
end

assert("help, --help and help for each command") do
  status, out, = cli("--help")
  assert_equal 0, status
  assert_include out, "hijack run"
  %w[run list version].each do |command|
    status, out, = cli("help", command)
    assert_equal 0, status
    assert_include out, "Usage: hijack #{command}"
    status, out2, = cli(command, "--help")
    assert_equal [0, out], [status, out2]
  end
  status, = cli("help", "nope")
  assert_equal 2, status
end

assert("version") do
  status, out, = cli("version")
  assert_equal [0, "hijack #{Hijack.version}\n"], [status, out]
end

assert("list shows each system call with the functions making it; --functions every function with its prototype") do
  status, out, = cli("list")
  assert_equal 0, status
  openat = out.lines.find { |l| l.start_with?("openat ") }.split
  assert_equal "file", openat[1]
  %w[open open64 openat fopen].each { |f| assert_include openat, f }
  listed = out.lines.flat_map { |l| l.split.drop(2) }
  assert_equal Hijack.calls.map(&:to_s).sort, listed.sort
  status, out, = cli("list", "--functions")
  assert_equal 0, status
  assert_equal Hijack.calls.size, out.split("\n").size
  assert_include out, "ssize_t read(int fd, void *buf, size_t count)"
  # (newfstatat; statx on i386)
  made = Hijack.row(:stat).makes.to_s
  assert_include %w[newfstatat statx], made
  assert_true out.lines.any? { |l| l.split.first(3) == ["stat", "file", made] }, "stat makes #{made}"
end

assert("list narrows by call, group and strace class, and refuses unknown ones") do
  _st, out, = cli("list", "%network", "!connect")
  names = out.lines.map { |l| l.split.first }
  assert_include names, "sendto"
  assert_false names.include?("connect")
  assert_false names.include?("openat")
  _st, out, = cli("list", "--functions", "stat")
  assert_include out.lines.map { |l| l.split.first }, "fstatat"
  status, _out, err = cli("list", "%nosuch")
  assert_equal 2, status
  assert_include err, "unknown class %nosuch"
end

assert("run refuses a missing script before running anything") do
  status, _out, err = cli("run", "-s", "/nonexistent/hooks.rb", "--", "true")
  assert_equal 2, status
  assert_include err, "script not found: /nonexistent/hooks.rb"
end

assert("run refuses code with a syntax error, naming file and line") do
  status, _out, err = cli("run", "-e", "x = 1\nHijack.on(:read) do |c|\n", "--", "true")
  assert_equal 2, status
  assert_true err.start_with?("-e:3: "), err
end

assert("Hijack.__check_syntax") do
  assert_nil Hijack.__check_syntax("Hijack.on(:read) { |c| c.proceed }", "ok.rb")
  msg = Hijack.__check_syntax("def x\n  (\nend\n", "bad.rb")
  assert_true msg.start_with?("bad.rb:3: "), msg
end

assert("commands resolve like execvp: through PATH, or as given with a slash") do
  assert_equal "/bin/sh", Hijack::CLI.resolve("/bin/sh", "")
  assert_equal "/bin/sh", Hijack::CLI.resolve("sh", "/nonexistent:/bin")
  assert_nil Hijack::CLI.resolve("no-such-command-anywhere", "/bin:/usr/bin")
end
