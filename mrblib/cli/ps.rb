# `hijack ps`: the processes listening for live control.
# (the runner's only: a target process's VM never defines it)
if Hijack.__runner?
module Hijack
  class CLI
    def ps(args)
      return usage_error("ps takes no arguments", HELP_PS) unless args.empty?
      Hijack.__control_processes.each { |pid, cmd| @out.puts "#{pid.to_s.rjust(7)}  #{cmd}" }
      0
    rescue Hijack::Error => e
      fail_with(1, e.message)
    end
  end
end
end # Hijack.__runner?
