# `hijack top`: a command with a live view of its calls.
# (the runner's only: a target process's VM never defines it)
if Hijack.__runner?
module Hijack
  class CLI
    def top(args)
      opts, status = run_options(args, HELP_TOP)
      return status unless opts
      trace = temp_path("top", ".jsonl")
      File.open(trace, "w") {}
      calls = opts.trace[:calls] || Trace.expand([:all])
      opts.evals << "Hijack.trace(#{Hijack.functions(calls).map(&:inspect).join(', ')}, to: #{trace.inspect}, format: :jsonl)"
      status = prepare(opts) || check_dispatch(opts)
      return status if status
      pid = Hijack.__spawn(*opts.command)
      result = Hijack.__top(trace, pid, opts.command.join(" "))
      File.delete(trace)
      result || 0
    rescue Hijack::Error => e
      fail_with(1, e.message)
    end
  end
end
end # Hijack.__runner?
