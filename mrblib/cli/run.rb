# `hijack run`: check the scripts, set the environment, become the command.
# (the runner's only: a target process's VM never defines it)
if Hijack.__runner?
module Hijack
  class CLI
    def run(args)
      opts, status = run_options(args, HELP_RUN)
      return status unless opts
      status = prepare(opts)
      return status if status
      warn_about_sip(opts.command[0]) if Hijack.platform == "darwin"
      status = check_reachable(opts) || check_dispatch(opts)
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

    # --all-syscalls where the kernel refuses it: the C library's functions
    # only, said once; with --strict, refused (exit 126).
    def check_dispatch(opts)
      return nil unless opts.sud_refused
      return fail_with(EX_NOEXEC, "--all-syscalls: #{opts.sud_refused} (refused: --strict)") if opts.strict
      Hijack.log("hijack: --all-syscalls: #{opts.sud_refused}; hijack sees the C library's functions only")
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
  end
end
end # Hijack.__runner?
