# The `hijack` command line. tools/hijack/hijack.c hands ARGV to __main__,
# whose value is the exit status.
#
# Exit statuses: 0 success; 2 bad usage, a missing script or a script with a
# syntax error; 70 an installation problem (no preload library); 126 the
# command could not be executed; 127 the command was not found. `hijack run`
# otherwise becomes the command (same pid), so its status is the command's.
# (the runner's only: a target process's VM never defines it)
if Hijack.__runner?
module Hijack
  class CLI
    EX_USAGE = 2
    EX_SOFTWARE = 70
    EX_NOEXEC = 126
    EX_NOTFOUND = 127

    # A command of `hijack`: the method that runs it and its --help text
    # (COMMANDS, with the texts, is mrblib/cli/help.rb).
    Command = Struct.new(:method, :help)

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
        if entry.method != :help && (@args.first == "-h" || @args.first == "--help")
          @out.print entry.help
          return 0
        end
        send(entry.method, @args)
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
      @out.print entry.help
      0
    end

    def version(args)
      return usage_error("version takes no arguments") unless args.empty?
      @out.puts "hijack #{Hijack.version}"
      0
    end

    # hijack list [--functions] [NAME|GROUP|%CLASS...]: the system calls
    # hijack sees, each with the C functions that make it; --functions: one
    # line per function (name, groups, the call it makes, prototype).
    def list(args)
      functions = args.delete("--functions")
      bad = args.find { |a| a.start_with?("-") }
      return usage_error("list: unknown option #{bad}") if bad
      # (the functions: the raw rows of --all-syscalls are every system call)
      rows = Hijack.table.reject(&:raw)
      unless args.empty?
        begin
          chosen = Hijack::Trace.expand(args)
        rescue ArgumentError => e
          return usage_error("list: #{e.message}")
        end
        rows = rows.select { |r| chosen.include?(r.name) }
      end
      if functions
        rows.each do |row|
          made = row.makes || "-"
          @out.puts "#{row.name.to_s.ljust(14)} #{row.groups.join(',').ljust(10)} #{made.to_s.ljust(15)} #{row.prototype}"
        end
      else
        families = {}
        rows.each { |row| (families[row.makes || row.name] ||= []) << row }
        families.each do |name, members|
          groups = members.flat_map(&:groups).uniq.join(",")
          @out.puts "#{name.to_s.ljust(15)} #{groups.ljust(10)} #{members.map(&:name).join(' ')}"
        end
      end
      0
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
      code = "Hijack.count_calls(#{Hijack.functions(calls).map(&:inspect).join(', ')}, to: #{file.inspect})"
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
end # Hijack.__runner?
