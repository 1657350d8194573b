# Hijack::Call: one hooked call, as a hook sees it. The native part holds the
# arguments, the result and errno, and runs the hook chain (call.proceed);
# this part adds the accessors named after the arguments (call.path,
# call.fd, ...), which come from the call table.
module Hijack
  # The Ruby side and the native one talk in these Structs, not in
  # positional arrays:
  # one call of the table (src/table/calls.tab): Hijack.row(:openat).access;
  # `syscall` the name it goes by (call.name: :openat for open64), `makes`
  # the system call it makes here (nil: none), `sys_args` that call's
  # arguments, `like` the function it is a variant of
  Row = Struct.new(:name, :args, :errors, :groups, :prototype, :buffer, :access, :syscall, :makes, :sys_args, :like, :raw, :inner)
  # one argument of a call: its name, kind (:path, :fd, :buf, ...), C type
  Arg = Struct.new(:name, :kind, :ctype)
  # one argument of the system call a function makes: its name, kind, and
  # the function's argument it is (nil: a constant or a conversion)
  SysArg = Struct.new(:name, :kind, :from)
  # a hook's filters, as the native side checks them (nil: no bound)
  FilterSpec = Struct.new(:paths, :path_regexps, :fd_min, :fd_max, :hosts, :port_min, :port_max)

  class Call
    CLASSES = {}

    # The subclass of Call for one table entry, with its argument accessors.
    def self.for(name)
      CLASSES[name] ||= begin
        row = Hijack.row(name)
        klass = Class.new(Call)
        kinds = row.args.map(&:kind)
        klass.define_method(:__kinds) { kinds }
        row.args.each_with_index do |a, i|
          arg = a.name
          kind = a.kind
          klass.define_method(arg) { __arg(i) }
          klass.define_method("#{arg}=") { |value| __set_arg(i, value) }
          next unless kind == :sockaddr
          # call.host / call.port / call.family: the address, decoded
          klass.define_method(:sockaddr) { __sockaddr(i) }
          klass.define_method(:family) { (a = __sockaddr(i)) && a[0] }
          klass.define_method(:host) { (a = __sockaddr(i)) && a[1] }
          klass.define_method(:port) { (a = __sockaddr(i)) && a[2] }
        end
        # the system call's arguments, by its names (open's dirfd, fopen's
        # flags): the function's own where they are one, else read-only
        own = row.args.map(&:name)
        row.sys_args.each_with_index do |a, i|
          next if own.include?(a.name)
          if a.from
            j = a.from
            klass.define_method(a.name) { __arg(j) }
            klass.define_method("#{a.name}=") { |value| __set_arg(j, value) }
          else
            sys_name = a.name
            klass.define_method(a.name) { __sys_arg(i) }
            klass.define_method("#{a.name}=") do |_value|
              raise ArgumentError, "#{function || name}() has no #{sys_name} to change: #{name}'s #{sys_name} comes from its other arguments"
            end
          end
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
      shown = function.nil? || function == name ? name : "#{name} (#{function})"
      "#<Hijack::Call #{shown}(#{args.map(&:inspect).join(', ')})>"
    end

    # The arguments as `name=value`, without the addresses of buffers and
    # structures (which change from run to run).
    def describe_args
      names = Call.__names(__row)
      kinds = __kinds
      shown = []
      args.each_with_index do |value, i|
        next if %i[buf pointer sockaddr timespec].include?(kinds[i])
        shown << "#{names[i]}=#{value.is_a?(String) || value.is_a?(Array) ? value.inspect : value}"
      end
      shown.join(", ")
    end

    def self.__names(name)
      (@names ||= {})[name] ||= Hijack.row(name).args.map(&:name)
    end
  end
end
