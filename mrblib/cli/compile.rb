# `hijack compile`: a script to bytecode (.mrb) that `run -s` loads as it is.
# (the runner's only: a target process's VM never defines it)
if Hijack.__runner?
module Hijack
  class CLI
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
  end
end
end # Hijack.__runner?
