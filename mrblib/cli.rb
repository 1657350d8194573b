# The `hijack` command line. tools/hijack/hijack.c hands ARGV to __main__,
# whose value is the exit status.
#
# Exit statuses: 0 success; 2 bad usage, a missing script or a script with a
# syntax error; 70 an installation problem (no preload library); 126 the
# command could not be executed; 127 the command was not found. `hijack run`
# otherwise becomes the command (same pid), so its status is the command's.
module Hijack
  class CLI
    EX_USAGE = 2
    EX_SOFTWARE = 70
    EX_NOEXEC = 126
    EX_NOTFOUND = 127

    HELP = <<~TEXT
      hijack #{Hijack.version} - hand a program's C library calls to hook code written in Ruby

      Usage:
        hijack run [-s FILE]... [-e CODE]... [--no-follow] [--] COMMAND [ARGS...]
        hijack eval FILE.rb | -e CODE
        hijack compile FILE.rb [-o FILE.mrb]
        hijack top [RUN OPTIONS] [--] COMMAND [ARGS...]
        hijack ps
        hijack ctl PID (-e CODE | -s FILE | --off ID | --list)
        hijack list
        hijack version
        hijack help [COMMAND]

      Commands:
        run       run COMMAND with the hooks of the given scripts
        eval      run Ruby with the Hijack library (unit tests of hook scripts)
        compile   compile a hook script to mruby bytecode
        top       run COMMAND with a live view of its calls
        ps        list the processes started with `run --control`
        ctl       load or remove hook code in a running process
        list      list the calls hijack can hook
        version   print hijack's version
        help      show this help, or a command's

      Run `hijack help run` for an example.
    TEXT

    HELP_RUN = <<~TEXT
      Usage: hijack run [-s FILE]... [-e CODE]... [--] COMMAND [ARGS...]

      Runs COMMAND (same pid, same exit status) with hijack's preload library,
      which runs the hooks of every script in the command and in the programs
      it runs.

      Options:
        -s, --script FILE   a hook script, Ruby or compiled .mrb (repeatable)
        -e, --eval CODE     hook code given on the command line (repeatable)
        --no-follow         hook COMMAND only: programs it runs with an
                            environment of their own (env -i) are not hooked
        --control           every process listens for `hijack ctl` (see `hijack help ctl`)
        -q, --quiet         no notes from the runner (the seed it drew for fault flags)
        --strict            refuse (exit 126) a command hijack cannot hook (statically
                            linked, or for a loader this build does not support)
                            instead of running it unhooked with a warning
        -h, --help          show this help

      Faults (each sugar for the Ruby verb of the same name; CALLS is a
      comma-separated list of calls; @P a probability from 0 to 1):
        --fail CALLS:ERRNO[@P]           e.g. --fail read:EIO@0.05
        --delay CALLS:TIME[~JITTER][@P]  e.g. --delay write:50ms~20ms
        --throttle CALLS:RATE            e.g. --throttle read:1MB/s (per descriptor)
        --short CALLS:BYTES[@P]          e.g. --short write:1
        --corrupt CALLS[@P]              e.g. --corrupt read@0.01 (flips one bit)
        --partition HOST[:PORT][/MODE]   MODE refuse (default), timeout or blackhole
        --drop CALLS[@P]                 e.g. --drop sendto@0.3 (lost datagrams; TCP sends
                                         go through: see Hijack.drop's streams:)
        --fail-malloc-after N            every allocation after the first N fails (ENOMEM)
        --times N, --after N, --every N  limit the fault flag before them
        --seed N                         make every random decision reproducible
        --fault-log FILE                 one line per injected fault (default: hijack's log)
        --faults-summary                 at each process's exit, the count of each rule
                                         that fired there

      Files (Hijack::FS; GLOB: `*` within a segment, `**` across them):
        --redirect FROM=TO               e.g. /etc/hosts=/tmp/hosts or /srv/**=/tmp/fixture/**
        --fake PATH=CONTENT_FILE         PATH exists, with CONTENT_FILE's bytes
        --readonly GLOB                  writes, creates, renames, unlinks: EROFS
        --hide GLOB                      every path call: ENOENT

      Tracing (Hijack.trace; every process and thread of the tree):
        --trace CALLS                    names and groups: file, net, process, time, memory,
                                         all (every group but memory: name it too, for
                                         every allocation, e.g. --trace all,memory)
        -o, --output FILE                where the trace goes (default: hijack's log)
        --format strace|jsonl|chrome     strace's lines, JSON lines, or a Chrome/Perfetto trace
        -T                               each call's duration (strace format)
        --strsize N                      how much of strings and buffers is shown (default 32)
        --summary                        a table of calls, errors, time and bytes at the end
                                         (hijack then waits for the command: exit status the
                                         command's, 128+N for signal N)

      Policy (Hijack::Policy):
        --policy FILE.rb                 a Hijack::Policy.enforce/audit script
        --audit FILE                     one JSON line per violation (default: hijack's log)

      Time (Hijack::Clock; every process of the tree sees the same clock):
        --time "2030-01-01 00:00:00"     travel there (UTC unless a zone is given), or
        --time @1893456000 | +1d | -3h   to seconds since 1970, or by a duration
        --freeze                         time stands still (at --time, or now)
        --time-scale N                   time runs N times as fast (sleeps too)

      Every script is compiled first: a syntax error is reported as FILE:LINE
      and the command is not started (exit status 2). Programs COMMAND runs
      are hooked too, even when given an environment without hijack's
      variables, unless --no-follow.

      Environment:
        HIJACK_LIBRARY      the preload library to use (default: ../lib/#{Hijack.library_name}
                            next to the hijack executable)
        HIJACK_LOG          where hooks' Hijack.log lines and hijack's own
                            messages go (default: standard error)
        HIJACK_ON_ERROR     `abort`: an exception in a hook aborts the program
                            (default: reported once, the call goes on)
        HIJACK_SEED, HIJACK_FAULT_LOG, HIJACK_FAULTS_SUMMARY: as --seed,
                            --fault-log, --faults-summary

      Example:
        hijack run -e 'Hijack.on(:openat) { |c| raise Errno::EACCES if c.path == "/etc/hostname"; c.proceed }' \\
          -- cat /etc/hostname
    TEXT

    HELP_EVAL = <<~TEXT
      Usage: hijack eval FILE.rb [ARGS...]
             hijack eval -e CODE [ARGS...]

      Runs Ruby in hijack's embedded mruby with the Hijack library loaded, ARGV
      set to ARGS: hook authors unit-test their scripts with Hijack.simulate.
      Exit status: 0, or 1 when the code raised (reported as FILE:LINE).

      Example:
        hijack eval -e 'load_hooks = Hijack.on(:unlink) { raise Errno::EROFS }
                        p Hijack.simulate(:unlink, path: "/data/x")'
    TEXT

    HELP_COMPILE = <<~TEXT
      Usage: hijack compile FILE.rb [-o FILE.mrb]

      Compiles a hook script to mruby bytecode (default output: FILE.mrb beside
      it). `hijack run -s FILE.mrb` loads it without compiling.
    TEXT

    HELP_TOP = <<~TEXT
      Usage: hijack top [RUN OPTIONS] [--] COMMAND [ARGS...]

      Runs COMMAND (with any of `hijack run`'s options) and shows, every
      second: calls per second by call, errors by errno, bytes in and out,
      the files and peers with most traffic, the slowest recent calls.
      q quits the view; the command goes on. Without a terminal, prints a
      plain snapshot every second until the command ends (exit status the
      command's).
    TEXT

    HELP_PS = <<~TEXT
      Usage: hijack ps

      Lists your processes that run with `hijack run --control`: PID and
      command line.
    TEXT

    HELP_CTL = <<~TEXT
      Usage: hijack ctl PID -e CODE | -s FILE | --off ID | --list

      Talks to a process started with `hijack run --control` (only yours):
        -e CODE, -s FILE   load hook code; every thread picks it up at its
                           next hooked call. Prints the unit's ID.
        --off ID           remove the hooks that unit ID registered
        --list             the scripts and units in force

      Example:
        hijack ctl 4242 -e 'Hijack.fail(:read, with: :EIO, path: "/data/**")'
        hijack ctl 4242 --off 1
    TEXT

    HELP_LIST = <<~TEXT
      Usage: hijack list

      Lists the calls hijack can hook here: name, groups and C prototype.
    TEXT

    HELP_VERSION = <<~TEXT
      Usage: hijack version

      Prints hijack's version.
    TEXT

    COMMANDS = {
      "run" => [:run, HELP_RUN],
      "eval" => [:eval, HELP_EVAL],
      "compile" => [:compile, HELP_COMPILE],
      "top" => [:top, HELP_TOP],
      "ps" => [:ps, HELP_PS],
      "ctl" => [:ctl, HELP_CTL],
      "list" => [:list, HELP_LIST],
      "version" => [:version, HELP_VERSION],
      "help" => [:help, HELP],
    }

    def initialize(argv, out = $stdout, err = $stderr)
      @args = argv.dup
      @out = out
      @err = err
    end

    def main
      command = @args.shift
      case command
      when nil then usage_error("a command is needed")
      when "-h", "--help" then help([])
      when "-v", "--version" then version([])
      else
        entry = COMMANDS[command]
        return usage_error("unknown command: #{command}") unless entry
        if entry[0] != :help && (@args.first == "-h" || @args.first == "--help")
          @out.print entry[1]
          return 0
        end
        send(entry[0], @args)
      end
    end

    def help(args)
      topic = args.first
      if topic.nil?
        @out.print HELP
        return 0
      end
      entry = COMMANDS[topic]
      return usage_error("no help for unknown command: #{topic}") unless entry
      @out.print entry[1]
      0
    end

    def version(args)
      return usage_error("version takes no arguments") unless args.empty?
      @out.puts "hijack #{Hijack.version}"
      0
    end

    def list(args)
      return usage_error("list takes no arguments") unless args.empty?
      Hijack.table.each do |row|
        @out.puts "#{row.name.to_s.ljust(14)} #{row.groups.join(',').ljust(10)} #{row.prototype}"
      end
      0
    end

    # The parsed options of `hijack run`.
    RunOptions = Struct.new(:scripts, :evals, :command, :follow, :faults, :env, :clock, :trace, :quiet, :strict)

    # Parses `run`'s arguments; raises ArgumentError with a message for the user.
    def self.parse_run(args)
      args = args.dup
      opts = RunOptions.new([], [], [], true, [], {}, {}, { format: :strace, to: "-", time: false, strsize: 32 })
      until args.empty?
        arg = args.shift
        if arg == "--"
          break
        elsif arg == "-s" || arg == "--script"
          opts.scripts << option_value(arg, args)
        elsif arg.start_with?("--script=")
          opts.scripts << arg[9..-1]
        elsif arg == "-e" || arg == "--eval"
          opts.evals << option_value(arg, args)
        elsif arg.start_with?("--eval=")
          opts.evals << arg[7..-1]
        elsif arg == "--control"
          opts.env["HIJACK_CONTROL"] = "1"
        elsif arg == "--no-follow"
          opts.follow = false
        elsif arg == "--quiet" || arg == "-q"
          opts.quiet = true
        elsif arg == "--strict"
          opts.strict = true
        elsif FaultFlags::VERBS.key?(arg)
          opts.faults << FaultFlags.parse(arg, option_value(arg, args))
        elsif arg == "--fail-malloc-after"
          opts.faults << FaultFlags.malloc_after(arg, option_value(arg, args))
        elsif FaultFlags::MODIFIERS.include?(arg)
          raise ArgumentError, "#{arg} applies to the fault flag before it (e.g. --fail read:EIO #{arg} 1)" if opts.faults.empty?
          opts.faults.last[arg[2..-1].to_sym] = FaultFlags.count(arg, option_value(arg, args))
        elsif arg == "--trace" || arg.start_with?("--trace=")
          value = arg == "--trace" ? option_value(arg, args) : arg[8..-1]
          begin
            opts.trace[:calls] = Trace.expand(value.split(","))
          rescue ArgumentError
            raise ArgumentError, "--trace #{value}: expected call names or groups (file, net, process, time, memory, all)"
          end
        elsif arg == "-o" || arg == "--output"
          opts.trace[:to] = File.expand_path(option_value(arg, args))
        elsif arg == "--format" || arg.start_with?("--format=")
          value = arg == "--format" ? option_value(arg, args) : arg[9..-1]
          raise ArgumentError, "--format #{value}: expected strace, jsonl or chrome" unless %w[strace jsonl chrome].include?(value)
          opts.trace[:format] = value.to_sym
        elsif arg == "-T"
          opts.trace[:time] = true
        elsif arg == "--strsize"
          opts.trace[:strsize] = FaultFlags.count(arg, option_value(arg, args))
        elsif arg == "--summary"
          opts.trace[:summary] = true
        elsif arg == "--policy"
          opts.scripts << option_value(arg, args)
        elsif arg == "--audit"
          opts.env["HIJACK_AUDIT"] = File.expand_path(option_value(arg, args))
        elsif %w[--redirect --fake --readonly --hide].include?(arg)
          opts.evals << CLI.fs_ruby(arg, option_value(arg, args))
        elsif arg == "--time"
          value = option_value(arg, args)
          opts.clock[:time] = clock_value(arg, value)
        elsif arg == "--freeze"
          opts.clock[:freeze] = true
        elsif arg == "--time-scale"
          value = option_value(arg, args)
          scale = value.to_f
          raise ArgumentError, "--time-scale #{value}: expected a factor above 0, e.g. 10 or 0.5" unless value =~ /\A\d+(\.\d+)?\z/ && scale > 0
          opts.clock[:scale] = scale
        elsif arg == "--seed"
          opts.env["HIJACK_SEED"] = FaultFlags.count(arg, option_value(arg, args)).to_s
        elsif arg == "--fault-log"
          opts.env["HIJACK_FAULT_LOG"] = File.expand_path(option_value(arg, args))
        elsif arg == "--faults-summary"
          opts.env["HIJACK_FAULTS_SUMMARY"] = "1"
        elsif arg.start_with?("-") && arg != "-"
          raise ArgumentError, "unknown option for run: #{arg}"
        else
          args.unshift(arg)
          break
        end
      end
      opts.command = args
      raise ArgumentError, "run needs a command to run" if opts.command.empty?
      opts.evals.concat(opts.faults.map { |f| FaultFlags.to_ruby(f) })
      opts.evals.concat(clock_ruby(opts.clock))
      t = opts.trace
      if t[:calls]
        opts.evals << "Hijack.trace(#{t[:calls].map(&:inspect).join(', ')}, to: #{t[:to].inspect}, " \
                      "format: :#{t[:format]}, time: #{t[:time]}, strsize: #{t[:strsize]})"
      end
      opts
    end

    # The Ruby for an FS flag, its value checked now.
    def self.fs_ruby(flag, value)
      case flag
      when "--redirect", "--fake"
        from, to = value.split("=", 2)
        raise ArgumentError, "#{flag} #{value}: expected #{flag == '--fake' ? 'PATH=CONTENT_FILE' : 'FROM=TO'}" if from.to_s.empty? || to.to_s.empty?
        if flag == "--fake"
          raise ArgumentError, "#{flag} #{value}: no file #{to}" unless File.file?(to)
          "Hijack::FS.fake(#{File.expand_path(from).inspect}, file: #{File.expand_path(to).inspect})"
        else
          begin
            Hijack::FS.check_redirect(from, to)
          rescue ArgumentError => e
            raise ArgumentError, "#{flag} #{value}: #{e.message}"
          end
          "Hijack::FS.redirect(#{File.expand_path(from).inspect} => #{File.expand_path(to).inspect})"
        end
      else
        raise ArgumentError, "#{flag} needs a path or glob" if value.empty?
        "Hijack::FS.#{flag[2..-1]}(#{File.expand_path(value).inspect})"
      end
    end

    # --time VALUE: [:travel, "2030-..."] or [:offset, seconds]; checked now.
    def self.clock_value(flag, value)
      if value =~ /\A[+-]/
        [:offset, Clock.duration(value)]
      else
        Clock.to_ns(value)
        [:travel, value]
      end
    rescue ArgumentError => e
      raise ArgumentError, "#{flag} #{value}: #{e.message}"
    end

    # The Ruby for --time, --freeze and --time-scale.
    def self.clock_ruby(clock)
      code = []
      kind, value = clock[:time]
      if clock[:freeze]
        code << (kind == :travel ? "Hijack::Clock.freeze(#{value.inspect})" : "Hijack::Clock.freeze")
        code << "Hijack::Clock.offset(#{value})" if kind == :offset
      elsif kind
        code << "Hijack::Clock.#{kind}(#{value.inspect})"
      end
      code << "Hijack::Clock.scale(#{clock[:scale]})" if clock[:scale]
      code
    end

    def self.option_value(flag, args)
      value = args.shift
      raise ArgumentError, "#{flag} needs a value" if value.nil?
      value
    end

    # run's options from `args`, or nil and the usage error's exit status
    # (with `help`).
    def run_options(args, help)
      [CLI.parse_run(args), nil]
    rescue ArgumentError => e
      [nil, usage_error(e.message, help)]
    end

    def run(args)
      opts, status = run_options(args, HELP_RUN)
      return status unless opts
      status = prepare(opts)
      return status if status
      warn_about_sip(opts.command[0]) if Hijack.platform == "darwin"
      status = check_reachable(opts)
      return status if status
      prepare_trace_output(opts.trace)
      return run_with_summary(opts) if opts.trace[:summary]
      errno = Hijack.__exec(*opts.command)
      reason = SystemCallError.new(nil, errno).message
      fail_with(errno == Errno::ENOENT::Errno ? EX_NOTFOUND : EX_NOEXEC, "cannot run #{opts.command[0]}: #{reason}")
    end

    # Checks the scripts and sets the environment for the command; an exit
    # status when something is wrong, else nil.
    def prepare(opts)
      opts.scripts.each do |path|
        return fail_with(EX_USAGE, "script not found: #{path}") unless File.file?(path)
        return fail_with(EX_USAGE, "a script path cannot contain ':': #{path}") if path.include?(":")
        problem = Hijack.__check_file(path)
        return fail_with(EX_USAGE, problem, false) if problem
      end
      opts.evals.each do |code|
        problem = Hijack.__check_syntax(code, "-e")
        return fail_with(EX_USAGE, problem, false) if problem
      end

      library = preload_library
      return fail_with(EX_SOFTWARE, "preload library not found: #{library} (set HIJACK_LIBRARY)") unless File.file?(library)

      var = Hijack.preload_variable
      previous = Hijack.__getenv(var).to_s
      Hijack.__setenv(var, previous.empty? ? library : "#{library}:#{previous}")
      scripts = opts.scripts.map { |p| File.expand_path(p) }
      Hijack.__setenv("HIJACK_SCRIPT", scripts.empty? ? nil : scripts.join(":"))
      pass_evals(opts.evals.join("\n"))
      Hijack.__setenv("HIJACK_NO_FOLLOW", opts.follow ? nil : "1")
      opts.env.each { |k, v| Hijack.__setenv(k, v) }
      choose_seed(opts)
      nil
    end

    # Hook code up to EVAL_INLINE bytes travels in HIJACK_EVAL; more, in a
    # file of the user's (HIJACK_EVAL_FILE): no environment string grows
    # with the user's code or data.
    EVAL_INLINE = 4096

    def pass_evals(code)
      inline = code.bytesize <= EVAL_INLINE
      Hijack.__setenv("HIJACK_EVAL", code.empty? || !inline ? nil : code)
      Hijack.__setenv("HIJACK_EVAL_FILE", inline ? nil : Hijack.__stash(code))
    end

    # A command the preload library cannot reach (statically linked, another
    # loader or architecture) runs unhooked, with one line on hijack's log
    # saying so; with --strict it is refused (exit 126).
    def check_reachable(opts)
      return nil unless Hijack.platform == "linux"
      problem = Hijack.__cannot_hook(opts.command[0])
      return nil unless problem
      return fail_with(EX_NOEXEC, "#{problem} (refused: --strict)") if opts.strict
      Hijack.log("hijack: #{problem}; it runs unhooked")
      nil
    end

    # One seed for the whole tree: --seed, else HIJACK_SEED, else drawn now
    # and reported once (for fault flags; unless --quiet). A script's fault
    # lines name it too.
    def choose_seed(opts)
      return if opts.env.key?("HIJACK_SEED") || !Hijack.__getenv("HIJACK_SEED").to_s.empty?
      seed = (Time.now.usec ^ (Hijack.pid << 8)) & 0x7fffffff
      Hijack.__setenv("HIJACK_SEED", seed.to_s)
      @err.puts "hijack: faults seeded with #{seed} (rerun with --seed #{seed})" unless opts.faults.empty? || opts.quiet
    end

    def eval(args)
      if args.first == "-e"
        return usage_error("eval -e needs code", HELP_EVAL) if args.size < 2
        source = args[1]
        name = "-e"
        rest = args[2..-1]
      else
        name = args.first
        return usage_error("eval needs a FILE.rb or -e CODE", HELP_EVAL) if name.nil?
        return usage_error("unknown option for eval: #{name}", HELP_EVAL) if name.start_with?("-")
        return fail_with(EX_USAGE, "file not found: #{name}") unless File.file?(name)
        source = read_file(name)
        rest = args[1..-1]
      end
      ARGV.replace(rest) if Object.const_defined?(:ARGV)
      Object.const_set(:ARGV, rest) unless Object.const_defined?(:ARGV)
      begin
        bytecode = source.start_with?("RITE") ? source : Hijack.__compile(source, name)
      rescue SyntaxError => e
        return fail_with(EX_USAGE, e.message, false)
      end
      begin
        Hijack.__load_bytecode(bytecode)
        0
      rescue SystemExit => e
        e.status
      rescue Exception => e
        fail_with(1, Hijack.__describe(e), false)
      end
    end

    def compile(args)
      input = nil
      output = nil
      until args.empty?
        arg = args.shift
        if arg == "-o"
          output = args.shift
          return usage_error("-o needs a file", HELP_COMPILE) if output.nil?
        elsif arg.start_with?("-")
          return usage_error("unknown option for compile: #{arg}", HELP_COMPILE)
        elsif input
          return usage_error("compile takes one FILE.rb", HELP_COMPILE)
        else
          input = arg
        end
      end
      return usage_error("compile needs a FILE.rb", HELP_COMPILE) if input.nil?
      return fail_with(EX_USAGE, "file not found: #{input}") unless File.file?(input)
      output ||= input.end_with?(".rb") ? "#{input[0..-4]}.mrb" : "#{input}.mrb"
      begin
        bytecode = Hijack.__compile(read_file(input), input)
      rescue SyntaxError => e
        return fail_with(EX_USAGE, e.message, false)
      end
      File.open(output, "wb") { |f| f.write(bytecode) }
      0
    rescue IOError, SystemCallError => e
      fail_with(1, "cannot write #{output}: #{e.message}")
    end

    def top(args)
      opts, status = run_options(args, HELP_TOP)
      return status unless opts
      trace = temp_path("top", ".jsonl")
      File.open(trace, "w") {}
      calls = opts.trace[:calls] || Trace.expand([:all])
      opts.evals << "Hijack.trace(#{calls.map(&:inspect).join(', ')}, to: #{trace.inspect}, format: :jsonl)"
      status = prepare(opts)
      return status if status
      pid = Hijack.__spawn(*opts.command)
      result = Hijack.__top(trace, pid, opts.command.join(" "))
      File.delete(trace)
      result || 0
    rescue Hijack::Error => e
      fail_with(1, e.message)
    end

    def ps(args)
      return usage_error("ps takes no arguments", HELP_PS) unless args.empty?
      Hijack.__control_processes.each { |pid, cmd| @out.puts "#{pid.to_s.rjust(7)}  #{cmd}" }
      0
    rescue Hijack::Error => e
      fail_with(1, e.message)
    end

    def ctl(args)
      pid = args.shift
      return usage_error("ctl needs a PID", HELP_CTL) unless pid && pid =~ /\A\d+\z/
      what = args.shift
      request = case what
                when "-e" then args.first && "eval -e\n#{args.shift}"
                when "-s"
                  path = args.shift
                  return fail_with(EX_USAGE, "script not found: #{path}") unless path && File.file?(path)
                  "eval #{File.expand_path(path)}\n#{read_file(path)}"
                when "--off" then args.first =~ /\A\d+\z/ && "off #{args.shift}"
                when "--list" then "list"
                end
      return usage_error("ctl takes one of -e CODE, -s FILE, --off ID, --list", HELP_CTL) unless request && args.empty?
      reply = Hijack.__control_request(pid.to_i, request).chomp
      if reply.start_with?("error: ")
        @err.puts "hijack: #{reply[7..-1]}"
        return 1
      end
      @out.puts reply unless reply.empty?
      0
    rescue Hijack::Error => e
      fail_with(1, e.message)
    end

    def read_file(path)
      File.open(path, "rb") { |f| f.read }.to_s
    end

    # A trace file starts empty (a Chrome trace with its opening bracket).
    def prepare_trace_output(trace)
      return unless trace[:calls] && trace[:to] != "-"
      File.open(trace[:to], "w") { |f| f.write(trace[:format] == :chrome ? "[\n" : "") }
    end

    # --summary: the command runs as a child, counted by every process of
    # the tree; the table follows its end. Exit status: the command's, or
    # 128+N when signal N killed it.
    def run_with_summary(opts)
      file = temp_path("summary", "")
      File.open(file, "w") {}
      calls = opts.trace[:calls] || Trace.expand([:all])
      code = "Hijack.count_calls(#{calls.map(&:inspect).join(', ')}, to: #{file.inspect})"
      evals = (Hijack.__getenv("HIJACK_EVAL").to_s.split("\n") + [code]).join("\n")
      Hijack.__setenv("HIJACK_EVAL", evals)
      status, signal, errno = Hijack.__spawn_wait(*opts.command)
      lines = File.open(file, "r") { |f| f.read }.to_s.split("\n")
      File.delete(file)
      return fail_with(EX_NOTFOUND, "cannot run #{opts.command[0]}: #{SystemCallError.new(nil, errno).message}") if errno != 0
      @err.print Trace.summary_table(lines)
      signal > 0 ? 128 + signal : status
    end

    # A fresh file name under TMPDIR (or /tmp) for the runner's own use.
    def temp_path(kind, ext)
      dir = Hijack.__getenv("TMPDIR").to_s
      File.join(dir.empty? ? "/tmp" : dir, "hijack-#{kind}-#{Hijack.pid}-#{Time.now.usec}#{ext}")
    end

    SIP_PATHS = %w[/bin/ /usr/bin/ /sbin/ /usr/sbin/ /System/].freeze

    # macOS strips DYLD_INSERT_LIBRARIES from programs under System
    # Integrity Protection: say so, rather than let the hooks silently not run.
    def warn_about_sip(command)
      path = CLI.resolve(command, Hijack.__getenv("PATH").to_s)
      return unless path && SIP_PATHS.any? { |p| path.start_with?(p) }
      @err.puts "hijack: #{path} is protected by macOS (SIP), which strips DYLD_INSERT_LIBRARIES: " \
                "the hooks will not run in it. Run a copy instead, e.g. cp #{path} /tmp/ && hijack run ... -- /tmp/#{File.basename(path)}"
    end

    # The file `command` names, searched in `path` like execvp does.
    def self.resolve(command, path)
      return command if command.include?("/")
      path.split(":").map { |dir| File.join(dir.empty? ? "." : dir, command) }.find { |f| File.file?(f) }
    end

    def preload_library
      explicit = Hijack.__getenv("HIJACK_LIBRARY").to_s
      return explicit unless explicit.empty?
      exe = Hijack.__exe_path.to_s
      File.expand_path("../lib/#{Hijack.library_name}", File.dirname(exe))
    end

    def usage_error(message, help = HELP)
      @err.puts "hijack: #{message}"
      @err.puts
      @err.print help
      EX_USAGE
    end

    def fail_with(status, message, prefix = true)
      @err.puts(prefix ? "hijack: #{message}" : message)
      status
    end
  end
end

def __main__(argv)
  Hijack::CLI.new(argv[1..-1] || []).main
end
