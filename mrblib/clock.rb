# Hijack::Clock: Timecop's verbs with libfaketime's reach, for any program
# and every process it starts.
#
#   Hijack::Clock.freeze "2030-01-01 00:00:00 UTC"   # time stands still
#   Hijack::Clock.travel "2030-01-01 00:00:00 UTC"   # jump there, then keep ticking
#   Hijack::Clock.offset -3600                        # shift by seconds
#   Hijack::Clock.scale 10                            # 10x faster: 1 s of sleep takes 0.1 s
#
# Covered: time, gettimeofday, clock_gettime (REALTIME and REALTIME_COARSE
# follow freeze/travel/offset; MONOTONIC, its variants and BOOTTIME move
# with the scale and never go backwards), nanosleep, clock_nanosleep
# (relative and absolute), sleep, usleep. File timestamps written with "now"
# by the kernel are not faked.
#
# The clock's state (anchored once to the real clocks) travels to threads
# and child processes in HIJACK_CLOCK, so that all of a process tree agrees;
# a script setting the same clock again reuses it.
module Hijack
  module Clock
    NS = 1_000_000_000
    UNITS = { "s" => 1, "m" => 60, "h" => 3600, "d" => 86_400, "w" => 604_800 }.freeze

    class << self
      # Stops time at `time` (default: now, as the clock shows it: after a
      # travel, there). Once for the whole tree: children keep the same instant.
      def freeze(time = nil)
        target = if time
                   Clock.to_ns(time)
                 else
                   @state ? fake_realtime(real_realtime) : real_realtime
                 end
        set(time ? "freeze #{target}" : "freeze now", frozen: true, target: target)
      end

      # Jumps to `time`, from where time goes on.
      def travel(time)
        target = Clock.to_ns(time)
        set("travel #{target}", frozen: false, target: target)
      end

      # Shifts the time by `seconds` (negative: back).
      def offset(seconds)
        shift = (Float(seconds) * NS).to_i
        set("offset #{shift}", frozen: false, shift: shift)
      end

      # Time runs `factor` times as fast (sleeps take 1/factor as long).
      def scale(factor)
        factor = Float(factor)
        raise ArgumentError, "Hijack::Clock.scale takes a factor above 0" unless factor > 0
        set("scale #{factor}", scale: factor)
      end

      # The faked time, as a Time.
      def now
        ns = fake_realtime(real_realtime)
        Time.at(ns / NS, (ns % NS) / 1000)
      end

      def active?
        !@state.nil?
      end

      # Nanoseconds since the epoch for a Time, a number of seconds, or a
      # String: "2030-01-01 00:00:00 UTC", "2030-01-01T12:00:00+09:00",
      # "2030-01-01", "@1893456000" (UTC unless the string says otherwise).
      def to_ns(time)
        case time
        when Time then time.to_i * NS + time.usec * 1000
        when Integer then time * NS
        when Float then (time * NS).to_i
        when String then parse(time)
        else raise ArgumentError, "a time is a Time, seconds since 1970 or a String, not #{time.inspect}"
        end
      end

      def parse(text)
        s = text.strip
        return (Float(s[1..-1]) * NS).to_i if s =~ /\A@-?\d+(\.\d+)?\z/
        m = s.match(/\A(\d{4})-(\d\d)-(\d\d)([ T](\d\d):(\d\d)(:(\d\d))?)? *(UTC|Z|[+-]\d\d:?\d\d)?\z/)
        raise ArgumentError, "not a time: #{text.inspect} (expected 2030-01-01 00:00:00 UTC, 2030-01-01T00:00:00+09:00 or @SECONDS)" unless m
        secs = Time.gm(m[1].to_i, m[2].to_i, m[3].to_i, m[5].to_i, m[6].to_i, m[8].to_i).to_i
        zone = m[9]
        if zone && zone != "UTC" && zone != "Z"
          sign = zone[0] == "-" ? -1 : 1
          digits = zone.delete(":")
          secs -= sign * (digits[1, 2].to_i * 3600 + digits[3, 2].to_i * 60)
        end
        secs * NS
      end

      # "+1d", "-3h", "90s", "+2.5m": seconds.
      def duration(text)
        m = text.to_s.strip.match(/\A([+-]?)(\d+(\.\d+)?)([smhdw])\z/)
        raise ArgumentError, "not a duration: #{text.inspect} (expected +1d, -3h, 30m, 10s)" unless m
        value = m[2].to_f * UNITS[m[4]]
        m[1] == "-" ? -value : value
      end

      # --- state ------------------------------------------------------------

      # The clock as a String for HIJACK_CLOCK.
      def encode(state)
        state.map { |k, v| "#{k}=#{v}" }.join(";")
      end

      def decode(text)
        text.to_s.split(";").each_with_object({}) do |pair, h|
          k, v = pair.split("=", 2)
          h[k] = v
        end
      end

      def real_realtime
        Hijack.__real_clock(Hijack.__clocks[:realtime])
      end

      def real_monotonic
        Hijack.__real_clock(Hijack.__clocks[:monotonic])
      end

      # Applies one verb. An inherited HIJACK_CLOCK whose verbs begin with
      # the ones applied so far is reused, anchors included (its final
      # state: a script's later verbs find it again), so that a child (or a
      # thread's VM) running the same script shares its parent's one clock.
      def set(step, frozen: nil, target: nil, shift: nil, scale: nil)
        inherited = decode(Hijack.__getenv("HIJACK_CLOCK"))
        steps = (@state ? @state["steps"] : "").to_s.split(",").reject(&:empty?) + [step.tr(",;=", "   ")]
        if inherited["steps"].to_s.split(",")[0, steps.size] == steps
          load_state(inherited)
        else
          real = real_realtime
          state = @state ? @state.dup : { "real" => real.to_s, "mono" => real_monotonic.to_s, "target" => real.to_s,
                                          "frozen" => "0", "scale" => "1.0" }
          # A new verb re-anchors at the current fake time.
          if @state
            state["target"] = fake_realtime(real).to_s
            state["real"] = real.to_s
            state["mono"] = real_monotonic.to_s
          end
          state["target"] = target.to_s if target
          state["target"] = (real + shift).to_s if shift
          state["frozen"] = frozen ? "1" : "0" unless frozen.nil?
          state["scale"] = scale.to_s if scale
          state["steps"] = steps.join(",")
          load_state(state)
          Hijack.__setenv("HIJACK_CLOCK", encode(state))
        end
        install
        self
      end

      def load_state(state)
        @state = state
        @real = state["real"].to_i
        @mono = state["mono"].to_i
        @target = state["target"].to_i
        @frozen = state["frozen"] == "1"
        @scale = state["scale"].to_f
      end

      def fake_realtime(real_ns)
        return @target if @frozen
        @target + ((real_ns - @real) * @scale).to_i
      end

      def fake_monotonic(mono_ns)
        @mono + ((mono_ns - @mono) * @scale).to_i
      end

      # A deadline on the fake clock `id`, as one on the real clock.
      def real_deadline(id, fake_ns)
        if realtime?(id)
          return real_realtime + (fake_ns - @target) if @frozen
          @real + ((fake_ns - @target) / @scale).to_i
        else
          @mono + ((fake_ns - @mono) / @scale).to_i
        end
      end

      def realtime?(id)
        c = Hijack.__clocks
        id == c[:realtime] || id == c[:realtime_coarse]
      end

      def monotonic?(id)
        c = Hijack.__clocks
        [c[:monotonic], c[:monotonic_coarse], c[:monotonic_raw], c[:boottime]].include?(id)
      end

      def install
        return if @installed
        @installed = true
        abstime = Hijack.__clocks[:timer_abstime] || 1
        Hijack.after("clock_gettime()") do |call|
          next unless call.result == 0 && call.tp != 0
          id = call.clockid
          if Clock.realtime?(id)
            call.__set_timespec(:tp, Clock.fake_realtime(call.__timespec(:tp)))
          elsif Clock.monotonic?(id) && Clock.scaled?
            call.__set_timespec(:tp, Clock.fake_monotonic(call.__timespec(:tp)))
          end
        end
        Hijack.after("gettimeofday()") do |call|
          call.__set_timeval(:tv, Clock.fake_realtime(Clock.real_realtime)) if call.result == 0 && call.tv != 0
        end
        Hijack.after("time()") do |call|
          next if call.result == -1
          secs = Clock.fake_realtime(Clock.real_realtime) / NS
          call.__set_time_t(:tloc, secs)
          call.result = secs
        end
        Hijack.before("nanosleep()") do |call|
          call.__replace_timespec(:req, (call.__timespec(:req) / Clock.rate).to_i) if Clock.scaled? && call.req
        end
        if Hijack.calls.include?(:clock_nanosleep)
          Hijack.before("clock_nanosleep()") do |call|
            next unless call.req
            ns = call.__timespec(:req)
            if call.flags & abstime != 0
              call.__replace_timespec(:req, Clock.real_deadline(call.clockid, ns))
            elsif Clock.scaled?
              call.__replace_timespec(:req, (ns / Clock.rate).to_i)
            end
          end
        end
        Hijack.on("sleep()") do |call|
          next call.proceed unless Clock.scaled?
          usleep((call.seconds * 1_000_000 / Clock.rate).to_i)
          0
        end
        Hijack.before("usleep()") do |call|
          call.usec = (call.usec / Clock.rate).to_i if Clock.scaled?
        end
      end

      def scaled?
        @scale != 1.0
      end

      def rate
        @scale
      end
    end
  end
end
