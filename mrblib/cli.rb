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
        hijack run [-s FILE]... [-e CODE]... [--] COMMAND [ARGS...]
        hijack list
        hijack version
        hijack help [COMMAND]

      Commands:
        run       run COMMAND with the hooks of the given scripts
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
        -s, --script FILE   a hook script (repeatable)
        -e, --eval CODE     hook code given on the command line (repeatable)
        -h, --help          show this help

      Every script is compiled first: a syntax error is reported as FILE:LINE
      and the command is not started (exit status 2).

      Environment:
        HIJACK_LIBRARY      the preload library to use (default: ../lib/#{Hijack.library_name}
                            next to the hijack executable)
        HIJACK_LOG          where hooks' Hijack.log lines and hijack's own
                            messages go (default: standard error)

      Example:
        hijack run -e 'Hijack.on(:openat) { |c| raise Errno::EACCES if c.path == "/etc/hostname"; c.proceed }' \\
          -- cat /etc/hostname
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
      Hijack.__table.each do |name, _args, _errors, groups, prototype|
        @out.puts "#{name.to_s.ljust(14)} #{groups.join(',').ljust(10)} #{prototype}"
      end
      0
    end

    # The parsed options of `hijack run`.
    RunOptions = Struct.new(:scripts, :evals, :command)

    # Parses `run`'s arguments; raises ArgumentError with a message for the user.
    def self.parse_run(args)
      args = args.dup
      opts = RunOptions.new([], [], [])
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
        elsif arg.start_with?("-") && arg != "-"
          raise ArgumentError, "unknown option for run: #{arg}"
        else
          args.unshift(arg)
          break
        end
      end
      opts.command = args
      raise ArgumentError, "run needs a command to run" if opts.command.empty?
      opts
    end

    def self.option_value(flag, args)
      value = args.shift
      raise ArgumentError, "#{flag} needs a value" if value.nil?
      value
    end

    def run(args)
      opts = begin
        CLI.parse_run(args)
      rescue ArgumentError => e
        return usage_error(e.message, HELP_RUN)
      end

      opts.scripts.each do |path|
        return fail_with(EX_USAGE, "script not found: #{path}") unless File.file?(path)
        return fail_with(EX_USAGE, "a script path cannot contain ':': #{path}") if path.include?(":")
        problem = Hijack.__check_syntax(File.open(path, "rb") { |f| f.read }.to_s, path)
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
      Hijack.__setenv("HIJACK_EVAL", opts.evals.empty? ? nil : opts.evals.join("\n"))

      errno = Hijack.__exec(*opts.command)
      reason = SystemCallError.new(nil, errno).message
      fail_with(errno == Errno::ENOENT::Errno ? EX_NOTFOUND : EX_NOEXEC, "cannot run #{opts.command[0]}: #{reason}")
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
