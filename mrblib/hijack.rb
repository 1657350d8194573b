# The hook DSL: the part of Hijack that hook scripts use.
#
#   Hijack.on(:openat, :open) do |call|        # around hook
#     raise Errno::EACCES if call.path.start_with?("/etc/secret")
#     call.proceed
#   end
module Hijack
  # A registered hook, as returned by Hijack.on.
  class Hook
    attr_reader :kind, :calls, :block

    def initialize(kind, calls, block)
      @kind = kind
      @calls = calls
      @block = block
      @enabled = true
      @reported = false
    end

    def enabled?
      @enabled
    end

    def enable
      @enabled = true
      self
    end

    def disable
      @enabled = false
      self
    end

    def inspect
      "#<Hijack::Hook #{@kind} #{@calls.join(', ')}#{@enabled ? '' : ' (disabled)'}>"
    end

    # A hook that raised something other than Errno is reported once; the
    # call it was running goes on without it.
    def __report(call, exception)
      return if @reported
      @reported = true
      Hijack.log("hijack: #{Hijack.__describe(exception)} (in a hook on #{call.name}; " \
                 "the call goes on without this hook)")
    end
  end

  @hooks = {}

  class << self
    # Registers an around hook on the named calls. The block gets a
    # Hijack::Call; its value is the call's result. It runs the real function
    # with call.proceed, fails the call with `raise Errno::EACCES` (or
    # call.fail(:EACCES)), or returns a result of its own.
    def on(*names, &block)
      raise ArgumentError, "Hijack.on needs a block" unless block
      raise ArgumentError, "Hijack.on needs the names of the calls to hook" if names.empty?
      calls = names.map { |n| __check_name(n) }
      hook = Hook.new(:around, calls, block)
      calls.each do |c|
        (@hooks[c] ||= []) << hook
        __watch(c)
      end
      hook
    end

    # Removes a hook returned by Hijack.on.
    def off(hook)
      hook.disable
      @hooks.each_value { |list| list.delete(hook) }
      hook
    end

    # The hooks in force, for one call or all of them.
    def hooks(name = nil)
      return (@hooks[__check_name(name)] || []).dup if name
      @hooks.values.flatten.uniq
    end

    # The calls hijack can hook on this platform, as Symbols.
    def calls
      __table.map(&:first)
    end

    # Runs the hooks registered here on a synthetic call, without the real
    # function: hook authors unit-test their scripts with it.
    #
    #   Hijack.simulate(:openat, path: "/etc/secret", flags: 0)
    #   # => {result: -1, errno: 13, proceeded: false, args: {dirfd: 0, path: "/etc/secret", ...}}
    #
    # Arguments not given are 0. `returns:` and `errno:` are what the
    # stand-in for the real function returns and leaves in errno.
    def simulate(name, returns: 0, errno: 0, **args)
      name = __check_name(name)
      names = __table.find { |row| row[0] == name }[1].map(&:first)
      unknown = args.keys - names
      unless unknown.empty?
        raise ArgumentError, "#{name} has no argument #{unknown.map(&:inspect).join(', ')} (it has #{names.join(', ')})"
      end
      result, err, proceeded, values = __simulate(name, names.map { |n| args.fetch(n, 0) }, returns, errno)
      args_out = {}
      names.each_with_index { |n, i| args_out[n] = values[i] }
      { result: result, errno: err, proceeded: proceeded, args: args_out }
    end

    # The errno number of :EACCES, "EACCES", Errno::EACCES, an instance of it,
    # or a number.
    def errno_of(err)
      case err
      when Integer
        return err if err > 0
      when Symbol, String
        name = err.to_s
        if name.start_with?("E") && Errno.const_defined?(name)
          return Errno.const_get(name)::Errno
        end
      when SystemCallError
        return err.errno if err.errno
      when Class
        return err::Errno if err.ancestors.include?(SystemCallError) && err.const_defined?(:Errno)
      end
      raise ArgumentError, "not an errno: #{err.inspect} (use :EACCES, Errno::EACCES or a positive Integer)"
    end

    # "FILE:LINE: Class: message" for an exception raised by hook code.
    def __describe(exception)
      where = (exception.backtrace || []).first
      what = "#{exception.class}: #{exception.message}"
      where ? "#{where}: #{what}" : what
    end

    # Called natively for each hooked call.
    def __dispatch(call)
      call.__chain(@hooks[call.name] || [], 0)
    end

    def __call_class(name)
      Call.for(name)
    end
  end
end
