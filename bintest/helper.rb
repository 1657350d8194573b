# Shared by the bintests (run by CRuby through mruby's test/bintest.rb, with
# BUILD_DIR set to the build under test).
require "open3"
require "tmpdir"
require "json"
require "fileutils"

return if defined?(HijackBintest)

module HijackBintest
  ROOT = File.expand_path("..", __dir__)

  module_function

  def exe
    cmd_bin("hijack")
  end

  def library
    File.join(ENV.fetch("BUILD_DIR"), "lib", "libhijack.so")
  end

  # Runs `hijack ARGS...`; returns [stdout, stderr, Process::Status].
  def hijack(*args, env: {}, stdin: "")
    Open3.capture3(env, exe, *args, stdin_data: stdin)
  end

  # Skips a test of --all-syscalls where it cannot run (Linux x86_64, and
  # its i686 build there).
  def sud_only
    skip "--all-syscalls is Linux x86_64's and i686's" unless RUBY_PLATFORM.include?("x86_64-linux") && %w[host i686-linux].include?(target)
  end

  # The same for what --all-syscalls does on x86_64 only (`why`: what the
  # i686 build lacks).
  def sud_x86_64_only(why)
    sud_only
    skip "i686: #{why}" if target_bits == 32
  end

  # Whether the suite runs under --all-syscalls (its second run in
  # script/test: HIJACK_ALL_SYSCALLS=1 reaches every hijack run). Where the
  # two modes see different calls, a test says what each should see.
  def all_syscalls?
    ENV["HIJACK_ALL_SYSCALLS"] == "1"
  end

  # The environment of a run in the C library's functions' mode only,
  # whichever run of the suite this is.
  def symbol_mode
    {"HIJACK_ALL_SYSCALLS" => nil}
  end

  # Runs `hijack ARGS...` and checks that it refused them as a usage error:
  # exit status 2, and `message` in its standard error (returned).
  def assert_usage_error(message, *args)
    _out, err, st = hijack(*args)
    assert_equal 2, st.exitstatus
    assert_include err, message
    err
  end

  # The preload library of a 32-bit target, given to the system's 64-bit
  # programs, only makes the dynamic loader complain: drop those lines.
  def without_loader_noise(err)
    err.lines.reject { |l| l.include?("wrong ELF class") || l.include?("this build of hijack hooks") }.join
  end

  FIXTURES = File.expand_path("../test/fixtures", __dir__)

  # A real python3 executable (not a pyenv shim, which runs dozens of
  # processes of its own).
  def python
    @python ||= `python3 -c 'import sys; print(sys.executable)'`.strip
  end

  # The target under test: "host" (64-bit) or a cross target's name.
  def target
    File.basename(ENV.fetch("BUILD_DIR"))
  end

  def target_bits
    target.start_with?("i686") ? 32 : 64
  end

  # A program to hook, built from test/programs/NAME.c for the target under
  # test (so that a 32-bit hijack has 32-bit programs to hook).
  # `src` defaults to test/programs/NAME.c; `flags` are extra compiler flags.
  def program(name, src: File.join(ROOT, "test", "programs", "#{name}.c"), flags: [])
    @programs ||= {}
    @programs[name] ||= begin
      dir = File.join(ENV.fetch("BUILD_DIR"), "test-programs")
      Dir.mkdir(dir) unless Dir.exist?(dir)
      out = File.join(dir, name)
      flags += target_bits == 32 ? ["-m32", "-pthread"] : ["-pthread"]
      system("cc", "-O2", *flags, "-o", out, src) or raise "cannot build #{src}"
      out
    end
  end

  # A Go program of test/programs (NAME.go), built once per test run with
  # Debian's golang-go (its cache under the build directory); nil where
  # there is no `go`.
  def go_program(name)
    @programs ||= {}
    @programs["go:#{name}"] ||= begin
      dir = File.join(ENV.fetch("BUILD_DIR"), "test-programs")
      Dir.mkdir(dir) unless Dir.exist?(dir)
      out = File.join(dir, name)
      env = {"GOCACHE" => File.join(dir, "go-cache"), "GOPATH" => File.join(dir, "go-path"), "GOFLAGS" => "", "CGO_ENABLED" => "1"}
      src = File.join(ROOT, "test", "programs", "#{name}.go")
      system("go", "version", out: File::NULL, err: File::NULL) or raise "no go here (Debian's golang-go): cannot build #{src}"
      system(env, "go", "build", "-o", out, src) or raise "cannot build #{src}"
      out
    end
  end

  # The program build.rs generates from src/table/calls.tab: every call of the
  # table, once (test/programs/exercise.rs). Not position-independent, so
  # that its static buffers have the same addresses in every run.
  def exercise
    src = File.join(ENV.fetch("BUILD_DIR"), "mrbgems", "mruby-hijack", "gen", "exercise.c")
    program("exercise", src: src, flags: ["-no-pie"])
  end

  # `cat` for the target under test: the system's on the host, the test
  # program on other targets.
  def cat
    target_bits == 64 ? "cat" : program("hcat")
  end

  # Skips the current assert on targets whose programs this machine has not.
  def native_programs_only(what)
    skip "#{what}: no #{target_bits}-bit build of it here" unless target_bits == 64
  end

  # A one-answer HTTP server on 127.0.0.1:`port` (0: any free one) while
  # the block runs; yields the port.
  def with_http_server(port = 0)
    require "socket"
    server = TCPServer.new("127.0.0.1", port)
    serving = Thread.new do
      loop do
        c = server.accept
        c.readpartial(4096)
        c.write("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
        c.close
      end
    end
    begin
      yield server.addr[1]
    ensure
      serving.kill
      server.close
    end
  end

  # test/fixtures/reader.py reading `data` under `hijack run --control`,
  # listed by `hijack ps`: yields its pid and the pipe of its "ok" / "error N"
  # lines; stops it after the block.
  def with_controlled_reader(data, dir)
    stop = "#{dir}/stop"
    out_r, out_w = IO.pipe
    pid = Process.spawn(exe, "run", "--control", "--", python, "#{FIXTURES}/reader.py", data, stop, out: out_w)
    out_w.close
    begin
      assert_equal "ok", out_r.gets.to_s.chomp
      assert_true wait_until { hijack("ps")[0].include?(pid.to_s) }, "hijack ps lists it"
      yield pid, out_r
    ensure
      File.write(stop, "")
      Process.wait(pid)
    end
  end

  # The arguments of a strace-format line, split at its top-level commas.
  def strace_args(line)
    inner = line[/\A\w+\((.*)\) += /, 1] or return nil
    args = [+""]
    depth = 0
    quoted = false
    escaped = false
    inner.each_char do |ch|
      if quoted
        if escaped then escaped = false
        elsif ch == "\\" then escaped = true
        elsif ch == '"' then quoted = false
        end
      elsif ch == '"' then quoted = true
      elsif "[{(".include?(ch) then depth += 1
      elsif "]})".include?(ch) then depth -= 1
      elsif ch == "," && depth.zero?
        args << +""
        next
      end
      args[-1] << ch
    end
    args.map(&:strip)
  end

  # Waits for the block to be true (polling, up to `seconds`): an event, not
  # a fixed sleep. Returns whether it became true.
  def wait_until(seconds = 10)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
    until yield
      return false if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.05
    end
    true
  end

  # The observe-everything fixture's exit lines in `log` say its hooks ran:
  # some process counted calls (calls=0 is what a process whose hooks never
  # ran prints).
  def assert_hooks_ran(log)
    counts = File.exist?(log) ? File.read(log).scan(/calls=(\d+)/).flatten.map(&:to_i) : []
    assert_true counts.any?(&:positive?), "the hooks ran (calls=#{counts.inspect})"
  end

  # Runs `hijack ARGS...` under strace and returns [stdout, status, the
  # relative sleeps its processes really asked the kernel for (seconds)]:
  # what a fake clock or a fault made of a sleep, without timing anything.
  def real_sleeps(*args, env: {})
    Dir.mktmpdir("hijack-sleeps") do |dir|
      out, _err, st = Open3.capture3(env, "strace", "-f", "-qq", "-e", "signal=none", "-o", "#{dir}/s",
                                     "-e", "trace=nanosleep,clock_nanosleep,clock_nanosleep_time64", exe, *args)
      sleeps = File.read("#{dir}/s").scan(/nanosleep(?:_time64)?\((?:\w+, 0, )?\{tv_sec=(\d+), tv_nsec=(\d+)\}/)
      [out, st, sleeps.map { |sec, nsec| sec.to_i + nsec.to_i / 1e9 }]
    end
  end

  def in_tmpdir
    Dir.mktmpdir("hijack-bintest") { |dir| yield dir }
  end

  def write(path, text)
    File.write(path, text)
    path
  end
end

# Every call of the table, made by the program build.rs generates from
# src/table/calls.tab (test/programs/exercise.rs): its expectations and the hook
# script that checks them (exercise_test.rb, memcheck_test.rb).
module Exercise
  module_function

  # name => [convention, ends?, what the hook must see, harmless?, the
  # positions of its structure pointers], from `exercise --expect`
  # (harmless: made for real, it changes nothing).
  def calls
    @calls ||= `#{HijackBintest.exercise} --expect`.lines.to_h do |line|
      name, convention, ends, harmless, pointers, desc = line.chomp.split("\t", 6)
      [name, [convention, ends == "ends", desc.to_s, harmless == "harmless", pointers.split(",").map(&:to_i)]]
    end
  end

  # The hooks: a call whose arguments read as expected is logged and failed
  # with EIO (unless it cannot fail); others (the C library's own, or a call
  # whose arguments read wrong) go through, and what they showed is logged.
  def script(dir)
    write("#{dir}/hooks.rb", <<~RUBY)
      EXPECT = #{calls.transform_values { |c| [c[0], c[2]] }.inspect}
      HOOKED = {}
      SEEN = Hash.new { |h, k| h[k] = [] }

      def describe(call)
        parts = [call.describe_args]
        parts << "addr=\#{call.sockaddr.inspect}" if call.respond_to?(:sockaddr)
        # (the function's own req, not the one of the system call it makes)
        parts << "req=\#{call.req}" if Hijack.row(call.function).args.any? { |a| a.name == :req }
        data = begin
          call.data
        rescue Hijack::Error
          nil
        end
        parts << "data=\#{data.inspect}" if data
        parts.reject(&:empty?).join(", ")
      end

      EXPECT.each do |name, (convention, want)|
        Hijack.before("\#{name}()") do |call|
          got = describe(call)
          if got == want && !HOOKED[name]
            HOOKED[name] = true
            Hijack.log "exercise: hooked \#{name}"
            raise Errno::EIO unless convention == "none"
          elsif SEEN[name].size < 3 && !HOOKED[name]
            SEEN[name] << got
          end
        end
      end

      Hijack.at_exit do
        SEEN.each { |name, seen| Hijack.log "exercise: \#{name} showed \#{seen.inspect}" unless HOOKED[name] }
      end
    RUBY
  end

  def hooked(log)
    File.exist?(log) ? File.read(log).scan(/^exercise: hooked (\S+)$/).flatten : []
  end
end
