# Hijack::Call: one hooked call, as a hook sees it. The native part holds the
# arguments, the result and errno, and runs the hook chain (call.proceed);
# this part adds the accessors named after the arguments (call.path,
# call.fd, ...), which come from the call table.
module Hijack
  class Call
    CLASSES = {}

    # The subclass of Call for one table entry, with its argument accessors.
    def self.for(name)
      CLASSES[name] ||= begin
        row = Hijack.__row(name)
        klass = Class.new(Call)
        kinds = row[1].map { |_arg, kind, _ctype| kind }
        klass.define_method(:__kinds) { kinds }
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

    # The arguments as `name=value`, without the addresses of buffers and
    # structures (which change from run to run).
    def describe_args
      names = Call.__names(name)
      kinds = __kinds
      shown = []
      args.each_with_index do |value, i|
        next if %i[buf pointer sockaddr timespec].include?(kinds[i])
        shown << "#{names[i]}=#{value.is_a?(String) || value.is_a?(Array) ? value.inspect : value}"
      end
      shown.join(", ")
    end

    def self.__names(name)
      (@names ||= {})[name] ||= Hijack.__row(name)[1].map(&:first)
    end
  end
end
