# `hijack ctl`: hook code into (or out of) a running process.
# (the runner's only: a target process's VM never defines it)
if Hijack.__runner?
module Hijack
  class CLI
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
end # Hijack.__runner?
