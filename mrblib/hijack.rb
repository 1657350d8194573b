# The hook DSL: the part of Hijack that hook scripts use.
#
#   Hijack.on(:openat) do |call|               # around hook: open, open64, fopen... too
#     raise Errno::EACCES if call.path.start_with?("/etc/secret")
#     call.proceed
#   end
#   Hijack.before(:unlink, path: "/data/**") { |call| raise Errno::EROFS }
#   Hijack.after(:read, fd: 3..) { |call| Hijack::Shared.incr(:bytes, call.result) if call.result > 0 }
module Hijack
  # A registered hook, as returned by Hijack.on, Hijack.before, Hijack.after.
  # The chain that runs hooks is native (src/ruby/hooks.rs); a Hook holds the
  # block (for the GC) and its places in the native registry.
  class Hook
    attr_reader :kind, :calls, :block, :filters, :unit

    def initialize(kind, calls, filters, block)
      @kind = kind
      @calls = calls
      @filters = filters
      @block = block
      @indexes = []
      @enabled = true
      @reported = false
      @unit = Hijack.__unit
    end

    def __indexes
      @indexes
    end

    def enabled?
      @enabled
    end

    def enable
      @enabled = true
      @indexes.each { |i| Hijack.__enable_hook(i, true) }
      self
    end

    def disable
      @enabled = false
      @indexes.each { |i| Hijack.__enable_hook(i, false) }
      self
    end

    def inspect
      filters = @filters.map { |k, v| "#{k}: #{v.inspect}" }
      "#<Hijack::Hook #{@kind} #{(@calls + filters).join(', ')}#{@enabled ? '' : ' (disabled)'}>"
    end

    # A hook that raised something other than Errno is reported once; the
    # call it was running goes on without it. With HIJACK_ON_ERROR=abort the
    # process stops there instead.
    def __report(call, exception)
      abort = Hijack.__getenv("HIJACK_ON_ERROR") == "abort"
      return if @reported && !abort
      @reported = true
      what = "hijack: #{Hijack.__describe(exception)} (in a hook on #{call.name}"
      trace = Hijack.__backtrace(exception)
      # Hooks are called natively: below the hook's block, mruby shows the
      # top level of the last script loaded, which did not call it.
      trace.pop if trace.size > 1 && !trace.last.include?(":in ")
      trace = trace[1..-1] || []
      from = trace.map { |line| "\n\tfrom #{line}" }.join
      if abort
        Hijack.log("#{what}; HIJACK_ON_ERROR=abort)#{from}")
        Hijack.__abort
      end
      Hijack.log("#{what}; the call goes on without this hook)#{from}")
    end
  end

  @hooks = {}

  class << self
    # Registers an around hook on the named calls. The block gets a
    # Hijack::Call; its value is the call's result. It runs the real function
    # with call.proceed, fails the call with `raise Errno::EACCES` (or
    # call.fail(:EACCES)), or returns a result of its own.
    #
    # Filters, checked natively (a call they keep out never enters Ruby):
    #   path: "/data/**" or /\.log\z/ (glob or Regexp, or an Array of them;
    #         `*` stays within a segment, `**` crosses them; relative paths
    #         are resolved; for a call on a descriptor, the path of its file)
    #   fd:   3 or 3.. (Integer or Range)
    #   host: "127.0.0.1" (glob, or Array), port: 5432 or 8000..8999
    def on(*names, **filters, &block)
      __register(:around, "Hijack.on", names, filters, block)
    end

    # Registers a hook run before the real function: it may change the
    # arguments, or fail the call (raise Errno::EROFS), which then does not run.
    def before(*names, **filters, &block)
      __register(:before, "Hijack.before", names, filters, block)
    end

    # Registers a hook run after the real function: it sees call.result,
    # call.errno and call.data, and may change the result.
    def after(*names, **filters, &block)
      __register(:after, "Hijack.after", names, filters, block)
    end

    def __register(kind, what, names, filters, block)
      raise ArgumentError, "#{what} needs a block" unless block
      raise ArgumentError, "#{what} needs the names of the calls to hook" if names.empty?
      calls = names.flatten.flat_map { |n| __calls_named(n) }.uniq
      __say_raw_only(names, calls)
      spec = __filter_spec(filters)
      hook = Hook.new(kind, calls, filters, block)
      calls.each do |c|
        filter_id = __watch(c, spec)
        hook.__indexes << __add_hook(hook, kind, c, filter_id, block)
        (@hooks[c] ||= []) << hook
      end
      hook
    end

    # Whether this process runs under --all-syscalls (HIJACK_ALL_SYSCALLS: 1,
    # or sigsys for every call through SIGSYS, no site rewritten).
    def all_syscalls?
      %w[1 sigsys].include?(Hijack.__getenv("HIJACK_ALL_SYSCALLS"))
    end

    # Says once, per name, that a hook on a system call no function of the
    # table makes sees it only through syscall() (without --all-syscalls).
    def __say_raw_only(names, calls)
      return if Hijack.all_syscalls?
      return unless calls.all? { |c| row(c).raw }
      (@said_raw ||= {})
      names.flatten.each do |n|
        next if @said_raw[n]
        @said_raw[n] = true
        Hijack.log "hijack: #{n} is made by no C library function of hijack's table: this hook sees it made through syscall() only (`hijack run --all-syscalls` sees it made any way)"
      end
    end

    # A hook whose action is native (:trace with a tracer id, :count): it
    # observes the calls after they ran and never enters Ruby. `names` are
    # functions (Trace.expand resolved them).
    def __register_native(kind, names, arg)
      calls = names.map { |n| __check_name(n) }
      hook = Hook.new(kind, calls, {}, nil)
      calls.each do |c|
        __watch(c, nil)
        hook.__indexes << __add_hook(hook, kind, c, nil, arg)
        (@hooks[c] ||= []) << hook
      end
      hook
    end

    # The filters as the native side checks them (a FilterSpec).
    def __filter_spec(filters)
      return nil if filters.empty?
      unknown = filters.keys - [:path, :fd, :host, :port]
      raise ArgumentError, "unknown filter #{unknown.first.inspect} (path:, fd:, host:, port:)" unless unknown.empty?
      paths = __patterns(filters, :path, true)
      hosts = __patterns(filters, :host, false)
      fd = __bounds(filters, :fd)
      port = __bounds(filters, :port)
      path_globs = paths && paths.select { |p| p.is_a?(String) }
      path_regexps = paths && paths.select { |p| p.is_a?(Regexp) }
      FilterSpec.new(path_globs, path_regexps, fd[0], fd[1], hosts, port[0], port[1])
    end

    def __patterns(filters, key, regexps)
      return nil unless filters.key?(key)
      list = filters[key].is_a?(Array) ? filters[key] : [filters[key]]
      ok = !list.empty? && list.all? { |g| g.is_a?(String) || (regexps && g.is_a?(Regexp)) }
      unless ok
        kinds = regexps ? "a glob String, a Regexp, or an Array of them" : "a glob String or an Array of them"
        raise ArgumentError, "#{key}: takes #{kinds}, not #{filters[key].inspect}"
      end
      list
    end

    def __bounds(filters, key)
      return [nil, nil] unless filters.key?(key)
      v = filters[key]
      case v
      when Integer then [v, v]
      when Range
        lo = v.begin
        hi = v.end
        ok = (lo.nil? || lo.is_a?(Integer)) && (hi.nil? || hi.is_a?(Integer))
        raise ArgumentError, "#{key}: takes an Integer or a Range of Integers, not #{v.inspect}" unless ok
        hi -= 1 if hi && v.exclude_end?
        [lo, hi]
      else
        raise ArgumentError, "#{key}: takes an Integer or a Range of Integers, not #{v.inspect}"
      end
    end

    # Removes a hook returned by Hijack.on, Hijack.before or Hijack.after.
    def off(hook)
      hook.disable
      hook.__indexes.each { |i| __remove_hook(i) }
      @hooks.each_value { |list| list.delete(hook) }
      hook
    end

    # The hooks in force, for one call or all of them.
    def hooks(name = nil)
      return __calls_named(name).flat_map { |c| @hooks[c] || [] }.uniq if name
      @hooks.values.flatten.uniq
    end

    # The live-control unit (hijack ctl -e) being loaded, if any.
    def __unit
      @unit
    end

    def __unit=(id)
      @unit = id
    end

    # Removes the hooks of live-control unit `id` (hijack ctl --off).
    def __off_unit(id)
      hooks.select { |h| h.unit == id }.each { |h| off(h) }
      nil
    end

    # The calls hijack can hook on this platform, as Symbols.
    def calls
      @calls ||= table.map(&:name)
    end

    # The table of the calls hijack can hook here: a Row per call.
    def table
      @table ||= __table
    end

    # One call's Row (ArgumentError for a name not in the table).
    def row(name)
      (@rows ||= {})[name] ||= __row(name)
    end

    # The calls that do one of `accesses` (:opens, :stdio, :reads, :writes,
    # :executes, :shell, :connects) to the path or peer they name.
    def calls_that(*accesses)
      table.select { |r| accesses.include?(r.access) }.map(&:name)
    end

    # The names that mean exactly these functions (`open()`: not the rest of
    # its family), for hooks that treat each function its own way.
    def functions(*names)
      names.flatten.map { |n| "#{n}()" }
    end

    # Runs `block` once, at the exit of the process (from exit() or a return
    # from main; not on _exit or a fatal signal).
    def at_exit(&block)
      raise ArgumentError, "Hijack.at_exit needs a block" unless block
      __exit_work
      (@at_exit ||= []) << block
      block
    end

    def __run_at_exit
      blocks = @at_exit || []
      @at_exit = []
      blocks.reverse_each do |b|
        begin
          b.call
        rescue Exception => e
          log("hijack: #{__describe(e)} (in Hijack.at_exit)")
        end
      end
      nil
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
      name = calls.include?(name.to_sym) ? name.to_sym : __calls_named(name).first
      names = row(name).args.map(&:name)
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

    # nil when `source` compiles, else "FILE:LINE: message".
    def __check_syntax(source, filename)
      __compile(source, filename)
      nil
    rescue SyntaxError => e
      e.message
    end

    # "FILE:LINE: Class: message" for an exception raised by hook code.
    def __describe(exception)
      where = __backtrace(exception).first
      what = "#{exception.class}: #{exception.message}"
      where ? "#{where}: #{what}" : what
    end

    # The backtrace lines of the script's own code: up to hijack's internal
    # frames (its methods are named __*), without places mruby cannot name.
    def __backtrace(exception)
      lines = (exception.backtrace || []).take_while { |line| !line.include?(":in __") }
      lines.reject { |line| line.start_with?("(unknown)") }
    end

    def __call_class(name)
      Call.for(name)
    end
  end
end
