# The fault flags of `hijack run` (--fail read:EIO@0.05, ...): parsed and
# checked before the command starts, then turned into calls of the Ruby
# verbs (mrblib/faults.rb) that the command's processes run.
# (the runner's only: a target process's VM never defines it)
if Hijack.__runner?
module Hijack
  module FaultFlags
    VERBS = {
      "--fail" => :fail, "--delay" => :delay, "--throttle" => :throttle, "--short" => :short,
      "--corrupt" => :corrupt, "--partition" => :partition, "--drop" => :drop,
    }.freeze
    MODIFIERS = %w[--times --after --every].freeze
    MEMORY = %i[malloc calloc realloc posix_memalign aligned_alloc].freeze
    RATE_UNITS = { "B" => 1, "KB" => 1000, "MB" => 1_000_000, "GB" => 1_000_000_000,
                   "KiB" => 1024, "MiB" => 1 << 20, "GiB" => 1 << 30 }.freeze
    TIME_UNITS = { "us" => 1e-6, "ms" => 1e-3, "s" => 1.0 }.freeze

    extend self

    def bad(flag, spec, expected)
      raise ArgumentError, "#{flag} #{spec}: #{expected}"
    end

    # A non-negative Integer.
    def count(flag, text)
      bad(flag, text, "expected a whole number") unless text =~ /\A\d+\z/
      text.to_i
    end

    # "CALLS[@P]" -> [calls, probability or nil, rest before @]
    def split_probability(flag, spec)
      body, p = spec.split("@", 2)
      probability = nil
      if p
        bad(flag, spec, "expected a probability from 0 to 1 after @") unless p =~ /\A(0|1|0?\.\d+|1\.0*)\z/
        probability = p.to_f
      end
      [body, probability]
    end

    def calls(flag, spec, text)
      names = text.to_s.split(",")
      bad(flag, spec, "expected the names of calls (`hijack list`)") if names.empty?
      names.each do |n|
        begin
          Hijack.__calls_named(n)
        rescue ArgumentError => e
          bad(flag, spec, e.message)
        end
      end
      names.map(&:to_sym)
    end

    def seconds(flag, spec, text)
      m = text.to_s.match(/\A(\d+|\d*\.\d+)(us|ms|s)\z/)
      bad(flag, spec, "expected a time like 50ms, 0.5s or 200us") unless m
      m[1].to_f * TIME_UNITS[m[2]]
    end

    def parse(flag, spec)
      verb = VERBS.fetch(flag)
      f = { verb: verb, flag: flag, spec: spec }
      case verb
      when :fail
        body, f[:probability] = split_probability(flag, spec)
        names, errno = body.split(":", 2)
        bad(flag, spec, "expected CALLS:ERRNO, e.g. read:EIO") unless errno
        f[:calls] = calls(flag, spec, names)
        unless errno =~ /\AE[A-Z0-9]+\z/ && Errno.const_defined?(errno)
          bad(flag, spec, "unknown errno #{errno} (expected a name like EIO or ENOSPC)")
        end
        f[:with] = errno
      when :delay
        body, f[:probability] = split_probability(flag, spec)
        names, time = body.split(":", 2)
        bad(flag, spec, "expected CALLS:TIME, e.g. write:50ms") unless time
        f[:calls] = calls(flag, spec, names)
        base, jitter = time.split("~", 2)
        f[:seconds] = seconds(flag, spec, base)
        f[:jitter] = jitter ? seconds(flag, spec, jitter) : 0
      when :throttle
        names, rate = spec.split(":", 2)
        m = rate.to_s.match(/\A(\d+|\d*\.\d+)(B|KB|MB|GB|KiB|MiB|GiB)\/s\z/)
        bad(flag, spec, "expected CALLS:RATE, e.g. read:1MB/s") unless m
        f[:calls] = calls(flag, spec, names)
        f[:rate] = (m[1].to_f * RATE_UNITS[m[2]]).to_i
        bad(flag, spec, "the rate must be above 0") unless f[:rate] > 0
      when :short
        body, f[:probability] = split_probability(flag, spec)
        names, bytes = body.split(":", 2)
        bad(flag, spec, "expected CALLS:BYTES, e.g. write:1") unless bytes =~ /\A[1-9]\d*\z/
        f[:calls] = calls(flag, spec, names)
        f[:max_bytes] = bytes.to_i
      when :corrupt, :drop
        body, f[:probability] = split_probability(flag, spec)
        f[:calls] = calls(flag, spec, body)
      when :partition
        target, mode = spec.split("/", 2)
        mode ||= "refuse"
        bad(flag, spec, "expected MODE refuse, timeout or blackhole") unless %w[refuse timeout blackhole].include?(mode)
        m = target.to_s.match(/\A(\[[0-9a-fA-F:.]+\]|[^\]:\[]+)(:(\d+))?\z/)
        bad(flag, spec, "expected HOST[:PORT][/MODE], e.g. 127.0.0.2:5432/blackhole") unless m
        f[:host] = m[1].delete("[]")
        f[:port] = m[3] && m[3].to_i
        f[:mode] = mode
      end
      f
    end

    # The Ruby that registers the fault.
    # --fail-malloc-after N: every allocation after the first N fails.
    def malloc_after(flag, text)
      { verb: :fail, flag: flag, spec: text, calls: MEMORY, with: "ENOMEM", after: count(flag, text) }
    end

    def to_ruby(f)
      opts = []
      opts << "probability: #{f[:probability]}" if f[:probability]
      %i[times after every].each { |k| opts << "#{k}: #{f[k]}" if f[k] }
      calls = (f[:calls] || []).map(&:inspect).join(", ")
      args = case f[:verb]
             when :fail then ["with: :#{f[:with]}"]
             when :delay then ["seconds: #{f[:seconds]}", "jitter: #{f[:jitter]}"]
             when :throttle then ["bytes_per_second: #{f[:rate]}"]
             when :short then ["max_bytes: #{f[:max_bytes]}"]
             when :partition
               ["host: #{f[:host].inspect}", ("port: #{f[:port]}" if f[:port]), "mode: :#{f[:mode]}"].compact
             else []
             end
      all = [(calls unless calls.empty?), *args, *opts].compact.join(", ")
      "Hijack.#{f[:verb]}(#{all}) # #{f[:flag]} #{f[:spec]}"
    end
  end
end
end # Hijack.__runner?
