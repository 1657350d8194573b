require_relative "helper"
include HijackBintest

# Every example of the README and of the commands' --help texts, run as a
# new user would (issue 16): an example can never again be wrong. The
# README's ```ruby blocks load in `hijack eval`; its ```sh lines run in a
# directory with the files they name (hooks.rb, app.py, a Makefile, a git
# repository, a server on 127.0.0.1:8080); the help texts' examples and
# `e.g.` flags run as printed.

README = File.read(File.join(ROOT, "README.md"))

# The code blocks of the README in `lang`, with the line each starts at.
def readme_blocks(lang)
  blocks = []
  current = nil
  README.lines.each_with_index do |line, i|
    if current.nil? && line.start_with?("```#{lang}")
      current = [i + 2, +""]
    elsif current && line.start_with?("```")
      blocks << current
      current = nil
    elsif current
      current[1] << line
    end
  end
  blocks
end

# A sandbox with what the README's examples name.
def with_sandbox
  in_tmpdir do |dir|
    write("#{dir}/hooks.rb", %(Hijack.after(:openat) { |c| Hijack.log "opened \#{c.path}" }\n))
    write("#{dir}/my_hooks_test.rb", <<~RUBY)
      load_hooks = Hijack.on(:unlink) { raise Errno::EROFS }
      raise "not denied" unless Hijack.simulate(:unlink, path: "/x")[:errno] == Errno::EROFS::Errno
    RUBY
    write("#{dir}/app.py", "import json\nprint(json.dumps({'ok': True}))\n")
    write("#{dir}/Makefile", "all:\n\t@true\n")
    system("git", "init", "-q", dir)
    yield dir
  end
end

# `hijack` as the README and the help texts write it, here.
def runnable(command)
  command.sub(%r{\A(build/host/bin/)?hijack\b}) { exe }
end

assert("README: every ```ruby block loads in hijack eval") do
  blocks = readme_blocks("ruby")
  assert_true blocks.size >= 3, "#{blocks.size} ruby blocks"
  with_sandbox do |dir|
    blocks.each do |line, code|
      write("#{dir}/block.rb", code)
      out, err, st = hijack("eval", "#{dir}/block.rb")
      assert_equal [0, ""], [st.exitstatus, without_loader_noise(err)], "README.md:#{line}: #{code.lines.first.strip} (#{out})"
    end
  end
end

# Runs every `hijack` line of the README's ```sh blocks in a sandbox.
def readme_sh_lines_run
  lines = readme_blocks("sh").flat_map { |start, code| code.lines.each_with_index.map { |l, i| [start + i, l.chomp] } }
  commands = lines.reject { |_n, l| l.strip.empty? }.map { |n, l| [n, l.sub(/\s{2,}#\s.*\z/, "")] }
  assert_true commands.size >= 8, "#{commands.size} sh lines"
  with_sandbox do |dir|
    commands.each do |n, command|
      next unless command.match?(%r{\A(build/host/bin/)?hijack\b})
      _out, err, st = Open3.capture3("sh", "-c", runnable(command), chdir: dir, stdin_data: "")
      assert_equal 0, st.exitstatus, "README.md:#{n}: #{command}\n#{err}"
    end
  end
end

assert("README: every ```sh line runs, exit status 0") do
  native_programs_only("the README's commands (curl, python3, git, make)")
  begin
    with_http_server(8080) { |_port| readme_sh_lines_run }
  rescue Errno::EADDRINUSE
    skip "port 8080 is taken here: the README's curl example needs it"
  end
end

assert("--help: each command's examples run and do what the text says") do
  native_programs_only("cat and python3")
  with_sandbox do |dir|
    file = File.exist?("/etc/hostname") ? nil : "h"
    run = hijack("help", "run")[0][/^Example:\n(.*?)(\n\S|\z)/m, 1].gsub("\\\n", " ").strip
    run = run.gsub("/etc/hostname", "#{dir}/hostname").tap { write("#{dir}/hostname", "h\n") } if file
    _out, err, st = Open3.capture3("sh", "-c", runnable(run), chdir: dir)
    assert_equal 1, st.exitstatus, "hijack help run's example: cat is denied (#{err})"
    assert_include err, "Permission denied"

    eval_example = hijack("help", "eval")[0][/^Example:\n(.*?)(\n\S|\z)/m, 1].strip
    out, err, st = Open3.capture3("sh", "-c", runnable(eval_example), chdir: dir)
    assert_equal 0, st.exitstatus, err
    assert_include out, "30" # the errno of EROFS, as Hijack.simulate returns it

    # ctl's example, on a running process instead of 4242
    ctl = hijack("help", "ctl")[0][/^Example:\n(.*?)(\n\S|\z)/m, 1].strip.lines.map(&:strip)
    with_controlled_reader("#{dir}/hooks.rb", dir) do |pid, _out|
      ctl.each do |line|
        _o, err, st = Open3.capture3("sh", "-c", runnable(line.sub("4242", pid.to_s)), chdir: dir)
        assert_equal 0, st.exitstatus, "#{line}: #{err}"
      end
    end
  end
end

assert("--help: every e.g. flag of hijack run is accepted as printed") do
  text = hijack("help", "run")[0]
  # (`--redirect FROM=TO  e.g. /etc/hosts=...` gives the value alone; after
  # " or ", another value of the same flag)
  flags = text.scan(/^\s*(--[\w-]+)?.*e\.g\. (.*)$/).flat_map do |flag, e|
    choices = e.sub(/ \(.*\z/, "").split(" or ").map(&:strip)
    name = choices.first.start_with?("-") ? choices.first.split.first : flag
    choices.map { |c| c.start_with?("-") ? c : "#{name} #{c}" }
  end
  assert_true flags.size >= 8, flags.inspect
  flags.each do |flag|
    words = flag.split(" ", 2)
    value = words[1].to_s.delete("'")
    _out, err, st = hijack("run", words[0], value, "--", "true")
    # (--all-syscalls also sees the exit_group of `true`, which the trace
    # flags print)
    shown = without_loader_noise(err).lines.reject { |l| l.include?("seed") || all_syscalls? && l =~ /\A\[pid \d+\] exit_group\(0\) +\= \?$/ }
    assert_equal [0, ""], [st.exitstatus, shown.join], "#{flag}: #{err}"
  end
end

assert("README: the size of the call table is the one hijack list shows") do
  native_programs_only("the x86_64 table")
  text = File.read(File.join(ROOT, "README.md"))
  functions, syscalls = text.match(/The call table has (\d+) functions on Linux .*?, under (\d+) names in `hijack list`/m).captures.map(&:to_i)
  assert_equal functions, hijack("list", "--functions")[0].lines.size
  assert_equal syscalls, hijack("list")[0].lines.size
end
