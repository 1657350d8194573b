# Hijack::Call: one hooked call, as a hook sees it. The native part holds the
# arguments, the result and errno; this part adds the accessors named after
# the arguments (call.path, call.fd, ...), which come from the call table,
# and the chaining of several hooks on one call.
module Hijack
  class Call
    CLASSES = {}

    # The subclass of Call for one table entry, with its argument accessors.
    def self.for(name)
      CLASSES[name] ||= begin
        row = Hijack.__table.find { |r| r[0] == name }
        raise ArgumentError, "unknown call #{name.inspect}" unless row
        klass = Class.new(Call)
        row[1].each_with_index do |(arg, kind, _ctype), i|
          klass.define_method(arg) { __arg(i) }
          klass.define_method("#{arg}=") { |value| __set_arg(i, value) }
          next unless kind == :sockaddr
          # call.host / call.port / call.family: the address, decoded
          klass.define_method(:sockaddr) { __sockaddr(i) }
          klass.define_method(:family) { (a = __sockaddr(i)) && a[0] }
          klass.define_method(:host) { (a = __sockaddr(i)) && a[1] }
          klass.define_method(:port) { (a = __sockaddr(i)) && a[2] }
        end
        Call.const_set(name.to_s.split("_").reject(&:empty?).map(&:capitalize).join, klass)
        klass
      end
    end

    # Runs the rest of the hook chain, then the real function, with the
    # current arguments; returns the result. At most once per hook.
    def proceed
      raise Hijack::Error, "#{name}: a hook may call proceed only once" if @proceeded_here
      @proceeded_here = true
      __chain(@chain, @next)
    end

    # Fails the call with an errno (:EIO, Errno::EIO or 5); returns the
    # failure result (-1 for most calls).
    def fail(err)
      __fail(Hijack.errno_of(err))
    end

    def pid
      Hijack.pid
    end

    def tid
      Hijack.tid
    end

    def inspect
      "#<Hijack::Call #{name}(#{args.map(&:inspect).join(', ')})>"
    end

    # Runs hooks chain[i..] around the real function.
    def __chain(chain, i)
      hook = nil
      while i < chain.size
        candidate = chain[i]
        i += 1
        if candidate.enabled? && candidate.matches?(self)
          hook = candidate
          break
        end
      end
      return __real unless hook

      saved = [@chain, @next, @proceeded_here]
      @chain = chain
      @next = i
      @proceeded_here = false
      begin
        case hook.kind
        when :before
          hook.block.call(self)
          proceed unless @proceeded_here || failed?
        when :after
          proceed
          hook.block.call(self)
        else
          value = hook.block.call(self)
          if value.is_a?(Integer)
            self.result = value
          elsif !@proceeded_here && !failed?
            proceed
          end
        end
      rescue SystemCallError => e
        fail(e.errno || Errno::EIO::Errno)
      rescue Exception => e
        hook.__report(self, e)
        proceed unless @proceeded_here || failed?
      ensure
        @chain, @next, @proceeded_here = saved
      end
      result
    end
  end
end
