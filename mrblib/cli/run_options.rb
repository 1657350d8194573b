# `hijack run`'s options (shared by `top`): parsed into RunOptions, and the
# Ruby source the fake-time and fake-file flags become.
# (the runner's only: a target process's VM never defines it)
if Hijack.__runner?
module Hijack
  class CLI
    # The parsed options of `hijack run`.
    RunOptions = Struct.new(:scripts, :evals, :command, :follow, :faults, :env, :clock, :trace, :quiet, :strict,
                            :sud_refused)

    # Parses `run`'s arguments; raises ArgumentError with a message for the user.
    def self.parse_run(args)
      args = args.dup
      opts = RunOptions.new([], [], [], true, [], {}, {}, { format: :strace, to: "-", time: false, strsize: 32 })
      # (first: the names --trace and the fault flags mean depend on it)
      if args.take_while { |a| a != "--" }.include?("--all-syscalls")
        raise ArgumentError, "--all-syscalls: #{Hijack.__sud_unsupported}" if Hijack.__sud_unsupported
        # (a kernel without it: the C library's functions only, said once
        # when the command starts; CLI#check_dispatch)
        opts.sud_refused = Hijack.__sud_refused
        # (HIJACK_ALL_SYSCALLS=sigsys set already: kept, no site rewritten)
        on = opts.sud_refused ? nil : Hijack.__getenv("HIJACK_ALL_SYSCALLS") == "sigsys" ? "sigsys" : "1"
        Hijack.__setenv("HIJACK_ALL_SYSCALLS", on)
        opts.env["HIJACK_ALL_SYSCALLS"] = on
      end
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
        elsif arg == "--all-syscalls"
          # (read above)
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
          rescue ArgumentError => e
            raise ArgumentError, "--trace #{value}: #{e.message}; names are calls, groups (file, net, process, time, memory, all), strace's classes (%file, %network...) and !NAME"
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
        # (the functions --trace chose, each exactly: NAME())
        opts.evals << "Hijack.trace(#{Hijack.functions(t[:calls]).map(&:inspect).join(', ')}, to: #{t[:to].inspect}, " \
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
  end
end
end # Hijack.__runner?
