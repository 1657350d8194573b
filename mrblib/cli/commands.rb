# The commands: run, eval, compile, top, ps, ctl.
module Hijack
  class CLI
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
  end
end
