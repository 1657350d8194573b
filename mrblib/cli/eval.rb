# `hijack eval`: Ruby with the Hijack library, for unit-testing hook scripts.
# (the runner's only: a target process's VM never defines it)
if Hijack.__runner?
module Hijack
  class CLI
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
  end
end
end # Hijack.__runner?
