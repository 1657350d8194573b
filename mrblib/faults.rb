# Fault injection: a chaos monkey for living processes, on the public hook
# API. Every verb returns the hook it registers and takes the hook filters
# (path:, fd:, host:, port:) and these options:
#   probability: 0..1     inject on that share of the matching calls
#   after: N              skip the first N matching calls
#   times: N              inject at most N faults
#   every: N              inject on every Nth matching call
# Counts are per process (Hijack::Shared). Random decisions draw from a
# generator seeded by HIJACK_SEED (or Hijack.chaos(seed:)), one per rule, so
# the same seed injects the same faults at the same calls (per thread).
# Every fault injected is one line in the fault log (HIJACK_FAULT_LOG,
# default hijack's log).
module Hijack
  # One fault rule: when to inject, and the record of what it did.
  class FaultRule
    OPTIONS = %i[probability after times every].freeze

    attr_reader :id, :description

    def initialize(description, options)
      Hijack.__fault_rules << self
      @id = Hijack.__fault_rules.size
      @description = "#{description} (rule #{@id})"
      @probability = Float(options.fetch(:probability, 1.0))
      @after = Integer(options.fetch(:after, 0))
      @times = options[:times] && Integer(options[:times])
      @every = options[:every] && Integer(options[:every])
      unless @probability >= 0 && @probability <= 1
        raise ArgumentError, "probability: is between 0 and 1, not #{options[:probability].inspect}"
      end
      raise ArgumentError, "every: is a positive Integer" if @every && @every < 1
      raise ArgumentError, "after: and times: are Integers >= 0" if @after < 0 || (@times && @times < 0)
      @seed = Hijack.__fault_seed
      @random = Random.new(@seed * 1_000_003 + @id)
      Hijack.__announce_faults
    end

    # Whether this matching call gets the fault.
    def fire?
      seen = Hijack::Shared.incr("fault.#{@id}.seen")
      return false if seen <= @after
      return false if @every && (seen - @after) % @every != 0
      return false if @times && (Hijack::Shared["fault.#{@id}.injected"] || 0) >= @times
      return false if @probability < 1 && @random.rand >= @probability
      injected = Hijack::Shared.incr("fault.#{@id}.injected")
      if @times && injected > @times # another thread got there first
        Hijack::Shared.incr("fault.#{@id}.injected", -1)
        return false
      end
      true
    end

    def random
      @random
    end

    # A new thread took this VM from one that exited: its draws start over
    # from the seed, as in a VM of its own.
    def __restart
      @random = Random.new(@seed * 1_000_003 + @id)
    end

    def injected
      Hijack::Shared["fault.#{@id}.injected"] || 0
    end

    # One line of the fault log for `call`.
    def record(call, what)
      # (a call with a socket address names its peer: describe_args leaves
      # structures out)
      peer = call.respond_to?(:host) && call.host ? " peer=#{call.family == :inet6 ? "[#{call.host}]" : call.host}:#{call.port}" : ""
      Hijack.__fault_log(
        "hijack-fault time=#{format('%.6f', Time.now.to_f)} pid=#{call.pid} tid=#{call.tid} " \
        "call=#{call.function || call.name}(#{call.describe_args})#{peer} injected=#{what} seed=#{@seed} rule=#{@id} #{@description}"
      )
    end
  end

  @fault_rules = []
  @fault_seed = nil
  @faults_announced = false

  class << self
    def __fault_rules
      @fault_rules
    end

    # (native: a thread's first hooked call takes this VM from one that
    # exited) What is the thread's own starts over.
    def __thread_start
      @fault_rules.each(&:__restart)
      nil
    end

    # The seed of every fault rule: HIJACK_SEED, Hijack.chaos(seed:), or one
    # drawn at random (and announced, so that a run can be replayed).
    def __fault_seed
      @fault_seed ||= begin
        given = __getenv("HIJACK_SEED").to_s
        given.empty? ? (Time.now.to_i ^ (pid << 16)) & 0x7fffffff : Integer(given)
      end
    end

    # A process says nothing of its fault rules until one fires (each fault
    # line names the seed); with HIJACK_FAULTS_SUMMARY=1, at exit, one line
    # per rule that fired in it.
    def __announce_faults
      return if @faults_announced
      @faults_announced = true
      return unless __getenv("HIJACK_FAULTS_SUMMARY") == "1"
      Hijack.at_exit do
        @fault_rules.each do |r|
          log("hijack: #{r.description}: #{r.injected} faults injected in pid #{pid}") if r.injected > 0
        end
      end
    end

    # Faults registered in the block draw from a generator seeded with `seed`.
    def chaos(seed:, &block)
      raise ArgumentError, "Hijack.chaos needs a block" unless block
      previous = @fault_seed
      @fault_seed = Integer(seed)
      block.call
    ensure
      @fault_seed = previous if previous
    end

    def __split_fault_options(options)
      rule = {}
      filters = {}
      options.each do |k, v|
        if FaultRule::OPTIONS.include?(k)
          rule[k] = v
        else
          filters[k] = v
        end
      end
      [rule, filters]
    end

    # Fails the calls with an errno:
    #   Hijack.fail :read, :pread64, with: :EIO, path: "/data/**", probability: 0.05
    def fail(*calls, with:, **options)
      errno = errno_of(with)
      name = Errno.constants.find { |c| Errno.const_get(c).const_defined?(:Errno) && Errno.const_get(c)::Errno == errno }
      rule_options, filters = __split_fault_options(options)
      rule = FaultRule.new("fail #{calls.join(',')} with #{name || errno}", rule_options)
      before(*calls, **filters) do |call|
        if rule.fire?
          rule.record(call, (name || errno).to_s)
          call.fail(errno)
        end
      end
    end

    # Delays the calls: seconds (Float), give or take up to jitter seconds.
    #   Hijack.delay :write, seconds: 0.05, jitter: 0.02, path: "/var/log/**"
    def delay(*calls, seconds:, jitter: 0, **options)
      seconds = Float(seconds)
      jitter = Float(jitter)
      raise ArgumentError, "seconds: and jitter: are >= 0" if seconds < 0 || jitter < 0
      rule_options, filters = __split_fault_options(options)
      rule = FaultRule.new("delay #{calls.join(',')} by #{seconds}s", rule_options)
      before(*calls, **filters) do |call|
        if rule.fire?
          wait = seconds + (jitter > 0 ? (rule.random.rand * 2 - 1) * jitter : 0)
          wait = 0 if wait < 0
          rule.record(call, "delay #{format('%.3f', wait)}s")
          usleep((wait * 1_000_000).to_i) if wait > 0
        end
      end
    end

    # Limits the calls' throughput, per descriptor, like a slow disk or link.
    #   Hijack.throttle :read, :recv, bytes_per_second: 1_000_000
    def throttle(*calls, bytes_per_second:, **options)
      rate = Float(bytes_per_second)
      raise ArgumentError, "bytes_per_second: is > 0" unless rate > 0
      rule_options, filters = __split_fault_options(options)
      rule = FaultRule.new("throttle #{calls.join(',')} to #{bytes_per_second} B/s", rule_options)
      # One timeline per descriptor, shared by the process's threads (each
      # has its own VM): threads reading one descriptor share its rate.
      after(*calls, **filters) do |call|
        n = call.result
        if n > 0 && rule.fire?
          now = monotonic
          wait = Hijack::Shared.__take_turn("throttle.#{rule.id}.#{call.fd}", now, n / rate) - now
          usleep((wait * 1_000_000).to_i) if wait > 0
        end
      end
    end

    # Short IO: the calls move at most max_bytes (well-written programs loop).
    #   Hijack.short :write, :send, max_bytes: 1
    def short(*calls, max_bytes:, **options)
      max = Integer(max_bytes)
      raise ArgumentError, "max_bytes: is >= 1" if max < 1
      rule_options, filters = __split_fault_options(options)
      rule = FaultRule.new("short #{calls.join(',')} to #{max} bytes", rule_options)
      before(*calls, **filters) do |call|
        if call.count > max && rule.fire?
          rule.record(call, "short #{max} of #{call.count} bytes")
          call.count = max
        end
      end
    end

    # Flips one random bit in the bytes the calls deliver (reads) or send
    # (writes).
    #   Hijack.corrupt :read, :recv, probability: 0.01
    def corrupt(*calls, **options)
      rule_options, filters = __split_fault_options(options)
      rule = FaultRule.new("corrupt #{calls.join(',')}", rule_options)
      flip = lambda do |call, data|
        i = rule.random.rand(data.bytesize)
        bit = rule.random.rand(8)
        data.setbyte(i, data.getbyte(i) ^ (1 << bit))
        rule.record(call, "bit #{bit} of byte #{i} flipped")
        call.data = data
      end
      hooks = []
      inbound = calls.select { |c| __buffer_direction(c) == :out }
      outbound = calls.select { |c| __buffer_direction(c) == :in }
      others = calls - inbound - outbound
      raise ArgumentError, "corrupt works on calls with a data buffer, not #{others.join(', ')}" unless others.empty?
      unless inbound.empty?
        hooks << after(*inbound, **filters) { |call| flip.call(call, call.data) if call.result > 0 && rule.fire? }
      end
      unless outbound.empty?
        hooks << before(*outbound, **filters) { |call| flip.call(call, call.data) if call.count > 0 && rule.fire? }
      end
      hooks.size == 1 ? hooks.first : hooks
    end

    # A network partition for connections to host (and port):
    #   mode: :refuse     connect fails with ECONNREFUSED
    #         :timeout    connect fails with ETIMEDOUT after timeout: seconds
    #         :blackhole  connect hangs until the caller's own timeout
    #   Hijack.partition host: "127.0.0.2", mode: :refuse
    def partition(host:, port: nil, mode: :refuse, timeout: 1, **options)
      mode = mode.to_sym
      raise ArgumentError, "mode: is :refuse, :timeout or :blackhole, not #{mode.inspect}" unless %i[refuse timeout blackhole].include?(mode)
      rule_options, filters = __split_fault_options(options)
      filters[:host] = host
      filters[:port] = port if port
      rule = FaultRule.new("partition #{host}#{port ? ":#{port}" : ''} (#{mode})", rule_options)
      before(:connect, **filters) do |call|
        next unless rule.fire?
        rule.record(call, mode.to_s)
        case mode
        when :refuse then call.fail(:ECONNREFUSED)
        when :timeout
          usleep((Float(timeout) * 1_000_000).to_i)
          call.fail(:ETIMEDOUT)
        else
          hole = __blackhole
          call.addr = call.family == :inet6 ? ["::ffff:127.0.0.1", hole] : ["127.0.0.1", hole]
        end
      end
    end

    # Datagrams lost: reported as sent, never delivered -- on datagram
    # sockets (SOCK_DGRAM, SOCK_RAW) only: no network loses data on a
    # stream (TCP retransmits). For streams, say what it can honestly mean:
    # `streams: :reset` (the send fails with ECONNRESET, as after a peer's
    # reset) or `streams: :stall` (it hangs `timeout:` seconds, then
    # ETIMEDOUT). Streams are left alone otherwise.
    #   Hijack.drop :send, :sendto, :sendmsg, probability: 0.3
    def drop(*calls, streams: nil, timeout: 1, **options)
      unless streams.nil? || %i[reset stall].include?(streams.to_sym)
        raise ArgumentError, "streams: is :reset or :stall, not #{streams.inspect}"
      end
      streams = streams && streams.to_sym
      rule_options, filters = __split_fault_options(options)
      rule = FaultRule.new("drop #{calls.join(',')}#{streams ? " (streams: #{streams})" : ''}", rule_options)
      on(*calls, **filters) do |call|
        type = __socket_type(call.fd)
        stream = type == :stream || type == :seqpacket
        if (stream && streams.nil?) || !rule.fire?
          call.proceed
        elsif !stream
          rule.record(call, "dropped")
          call.name.to_s == "sendmsg" ? call.__message_bytes : call.count
        elsif streams == :reset
          rule.record(call, "ECONNRESET")
          call.fail(:ECONNRESET)
        else
          rule.record(call, "stalled")
          usleep((Float(timeout) * 1_000_000).to_i)
          call.fail(:ETIMEDOUT)
        end
      end
    end

    def __buffer_direction(name)
      row(name).buffer
    end
  end
end
