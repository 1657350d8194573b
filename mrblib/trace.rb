# Tracing: every call of a set, as it happens, in strace's format, as JSON
# lines, or as Chrome trace events (Perfetto, chrome://tracing); and a
# summary like strace -c.
#
#   Hijack.trace(:openat, :read, to: "/tmp/t.log", format: :jsonl)
#   Hijack.trace(:file, :net)                 # groups: file net process time memory, or :all
#
# Lines from every thread and process go to one file with one write(2)
# each (O_APPEND): never torn, never interleaved, nothing left in a buffer.
module Hijack
  module Trace
    FORMATS = %i[strace jsonl chrome].freeze
    GROUPS = %i[file net process time memory].freeze

    class << self
      # Call names for a list of calls and groups (:all: every call but the
      # memory family, which only `:memory` or its names bring in).
      def expand(items)
        table = Hijack.__table
        items.flatten.flat_map do |item|
          item = item.to_sym
          if item == :all
            table.reject { |row| row[3].include?(:memory) }.map(&:first)
          elsif GROUPS.include?(item)
            table.select { |row| row[3].include?(item) }.map(&:first)
          else
            [Hijack.__check_name(item)]
          end
        end.uniq
      end

      def constants
        @constants ||= begin
          c = Hijack.__constants
          creat = c[:open].find { |n, _| n == "O_CREAT" }[1]
          tmp = c[:open].find { |n, _| n == "O_TMPFILE" }
          c[:mode_flags] = creat | (tmp ? tmp[1] : 0)
          c
        end
      end

      # --- strace -----------------------------------------------------------

      def quote(bytes, limit)
        return "NULL" if bytes.nil?
        s = bytes.to_s
        cut = limit && s.bytesize > limit
        s = s.byteslice(0, limit) if cut
        out = "\""
        bytes = s.bytes
        bytes.each_with_index do |b, i|
          out << case b
                 when 34 then "\\\""
                 when 92 then "\\\\"
                 when 10 then "\\n"
                 when 9 then "\\t"
                 when 13 then "\\r"
                 when 12 then "\\f"
                 when 11 then "\\v"
                 when 32..126 then b.chr
                 else
                   nxt = bytes[i + 1]
                   nxt && nxt >= 48 && nxt <= 55 ? format("\\%03o", b) : format("\\%o", b)
                 end
        end
        out << "\""
        out << "..." if cut
        out
      end

      def flags(value, table, zero = nil)
        rest = value
        names = []
        table.each do |name, bit|
          next if bit == 0 || rest & bit != bit
          names << name
          rest &= ~bit
        end
        names << format("0x%x", rest) if rest != 0
        names.empty? ? (zero || "0") : names.join("|")
      end

      def open_flags(value)
        access = value & 3
        base = %w[O_RDONLY O_WRONLY O_RDWR][access] || access.to_s
        rest = flags(value & ~3, constants[:open].reject { |n, _| %w[O_WRONLY O_RDWR].include?(n) }, nil)
        rest == "0" ? base : "#{base}|#{rest}"
      end

      def sockaddr(call)
        a = call.sockaddr
        return format("0x%x", call.addr) unless a
        case a[0]
        when :inet then "{sa_family=AF_INET, sin_port=htons(#{a[2]}), sin_addr=inet_addr(#{quote(a[1], nil)})}"
        when :inet6
          "{sa_family=AF_INET6, sin6_port=htons(#{a[2]}), sin6_flowinfo=htonl(0), " \
          "inet_pton(AF_INET6, #{quote(a[1], nil)}, &sin6_addr), sin6_scope_id=0}"
        else "{sa_family=AF_UNIX, sun_path=#{quote(a[1], nil)}}"
        end
      end

      def named(value, table)
        row = table.find { |_, v| v == value }
        row ? row[0] : value.to_s
      end

      def failed?(call)
        case call.__errors
        when :minus_one then call.result == -1
        when :null then call.result == 0
        when :code then call.result != 0
        else false
        end
      end

      def strace_arg(call, i, name, kind, value, strsize)
        case kind
        when :dirfd then value == constants[:at_fdcwd] ? "AT_FDCWD" : value.to_s
        when :path, :string then quote(value, nil)
        when :mode then format("0%o", value)
        when :flags
          if call.name.to_s.include?("open") || call.name.to_s.start_with?("creat") then open_flags(value)
          elsif %i[send sendto sendmsg recv recvfrom recvmsg].include?(call.name) then flags(value, constants[:msg])
          else value.to_s
          end
        when :buf
          failed?(call) ? format("0x%x", value) : quote(call.data, strsize)
        when :argv
          return "NULL" if value.nil?
          if name == :envp
            format("0x%x /* %d vars */", call.__word(i), value.size)
          else
            "[" + value.map { |a| quote(a, strsize) }.join(", ") + "]"
          end
        when :sockaddr then sockaddr(call)
        when :timespec then value.nil? ? "NULL" : "{tv_sec=#{value.to_i}, tv_nsec=#{((value % 1) * 1e9).round}}"
        when :pointer then value == 0 ? "NULL" : format("0x%x", value)
        else
          if name == :domain then named(value, constants[:af])
          elsif name == :type && call.name.to_s.start_with?("socket") then flags(value, constants[:sock])
          elsif name == :clockid then named(value, constants[:clock])
          else value.to_s
          end
        end
      end

      def strace_result(call)
        r = call.result
        if failed?(call)
          err = call.__error_code
          name, text = Hijack.__errno_name(err)
          value = call.__returns_pointer? ? "NULL" : (call.__errors == :code ? err.to_s : "-1")
          "#{value} #{name} (#{text})"
        elsif call.__returns_pointer?
          r == 0 ? "NULL" : format("0x%x", r)
        else
          r.to_s
        end
      end

      def strace(call, strsize, timed)
        names = Call.__names(call.name)
        kinds = call.__kinds
        args = call.args.each_with_index.map { |v, i| strace_arg(call, i, names[i], kinds[i], v, strsize) }
        # open's mode is there only when the flags ask for one (as strace shows it)
        if kinds.last == :mode && call.__variadic? && (call.flags & constants[:mode_flags]) == 0
          args.pop
        end
        who = call.tid == call.pid ? "[pid #{call.pid}]" : "[pid #{call.pid} tid #{call.tid}]"
        # strace puts the `=` of short lines at column 40
        line = "#{who} #{"#{call.name}(#{args.join(', ')})".ljust(39)} = #{strace_result(call)}"
        line << format(" <%.6f>", call.elapsed / 1e9) if timed
        line
      end

      # --- jsonl and chrome -------------------------------------------------

      def json(v)
        case v
        when nil then "null"
        when true, false, Integer then v.to_s
        when Float then v.to_s
        when Symbol then json(v.to_s)
        when Array then "[" + v.map { |x| json(x) }.join(",") + "]"
        when Hash then "{" + v.map { |k, x| "#{json(k.to_s)}:#{json(x)}" }.join(",") + "}"
        else Policy.json(v.to_s)
        end
      end

      def decoded_args(call, strsize)
        names = Call.__names(call.name)
        kinds = call.__kinds
        out = {}
        call.args.each_with_index do |v, i|
          out[names[i]] = case kinds[i]
                          when :buf then failed?(call) ? nil : (d = call.data) && d.byteslice(0, strsize)
                          when :sockaddr then (a = call.sockaddr) && { family: a[0], host: a[1], port: a[2] }
                          when :argv then names[i] == :envp ? (v && v.size) : v
                          else v
                          end
        end
        out
      end

      def errno_name(call)
        failed?(call) ? Hijack.__errno_name(call.__error_code)[0] : nil
      end

      def jsonl(call, strsize)
        json({ ts: Hijack.__real_clock(Hijack.__clocks[:realtime]), pid: call.pid, tid: call.tid, call: call.name,
               args: decoded_args(call, strsize), result: call.result, errno: errno_name(call), ns: call.elapsed })
      end

      def chrome(call, strsize)
        end_us = Hijack.__real_clock(Hijack.__clocks[:monotonic]) / 1000
        dur = call.elapsed / 1000
        group = (Hijack.__table.find { |r| r[0] == call.name } || [nil, nil, nil, [:other]])[3].first
        event = { name: call.name, cat: group, ph: "X", ts: end_us - dur, dur: dur, pid: call.pid, tid: call.tid,
                  args: decoded_args(call, strsize).merge(result: call.result, errno: errno_name(call)) }
        json(event) + ","
      end

      # The table of `hijack run --summary`, from the lines count_calls wrote.
      def summary_table(lines)
        totals = {}
        lines.each do |line|
          next unless line.start_with?("summary ")
          f = {}
          line.split(" ").drop(1).each do |kv|
            k, v = kv.split("=", 2)
            f[k] = v
          end
          t = (totals[f["call"]] ||= Hash.new(0))
          %w[count errors ns read written].each { |k| t[k] += f[k].to_i }
        end
        all_ns = totals.values.sum { |t| t["ns"] }
        rule = "------ ----------- ----------- --------- --------- ------------ ------------ ----------------"
        out = ["% time     seconds  usecs/call     calls    errors   bytes read  bytes wrote call", rule]
        totals.sort_by { |name, t| [-t["ns"], name] }.each do |name, t|
          pct = all_ns > 0 ? 100.0 * t["ns"] / all_ns : 0
          per = t["count"] > 0 ? t["ns"] / 1000 / t["count"] : 0
          out << format("%6.2f %11.6f %11d %9d %9s %12s %12s %s", pct, t["ns"] / 1e9, per, t["count"],
                        t["errors"] > 0 ? t["errors"].to_s : "", t["read"] > 0 ? t["read"].to_s : "",
                        t["written"] > 0 ? t["written"].to_s : "", name)
        end
        out << rule
        calls = totals.values.sum { |t| t["count"] }
        errors = totals.values.sum { |t| t["errors"] }
        read = totals.values.sum { |t| t["read"] }
        wrote = totals.values.sum { |t| t["written"] }
        out << format("100.00 %11.6f %11s %9d %9s %12s %12s total", all_ns / 1e9, "", calls,
                      errors > 0 ? errors.to_s : "", read > 0 ? read.to_s : "", wrote > 0 ? wrote.to_s : "")
        out.join("\n") + "\n"
      end

      def announce_process(to)
        return if @announced
        @announced = true
        name = json({ name: "process_name", ph: "M", pid: Hijack.pid, args: { name: File.basename(Hijack.__argv0) } })
        Hijack.__trace_write(to, name + ",")
      end
    end
  end

  class << self
    # Traces the calls (names and groups) to `to` (a file; "-" is hijack's
    # log) in `format` (:strace, :jsonl or :chrome). time: adds each call's
    # duration (strace's -T); strsize: how much of a string or buffer is
    # shown (strace's -s, default 32). Returns the hook.
    # Counts every call of `calls` for the run's summary (hijack run
    # --summary): one JSON line per process, at its exit, to `to`.
    def count_calls(*calls, to:)
      names = Trace.expand(calls.empty? ? [:all] : calls)
      after(*names) do |call|
        key = "summary.#{call.name}"
        Hijack::Shared.incr("#{key}.count")
        Hijack::Shared.incr("#{key}.errors") if Trace.failed?(call)
        Hijack::Shared.incr("#{key}.ns", call.elapsed)
        if call.__buffer && call.result > 0 && !Trace.failed?(call)
          Hijack::Shared.incr("#{key}.#{call.__buffer == :in ? 'written' : 'read'}", call.result)
        end
      end
      at_exit do
        counts = {}
        Hijack::Shared.to_h.each do |k, v|
          next unless k.start_with?("summary.")
          _, call, field = k.split(".")
          (counts[call] ||= {})[field] = v
        end
        counts.each do |call, c|
          fields = %w[count errors ns read written].map { |f| "#{f}=#{c[f] || 0}" }.join(" ")
          __trace_write(to, "summary pid=#{pid} call=#{call} #{fields}")
        end
      end
    end

    def trace(*calls, to: "-", format: :strace, time: false, strsize: 32)
      format = format.to_sym
      unless Trace::FORMATS.include?(format)
        raise ArgumentError, "format: is one of #{Trace::FORMATS.map(&:inspect).join(', ')}, not #{format.inspect}"
      end
      names = Trace.expand(calls.empty? ? [:all] : calls)
      to = to == "-" ? "-" : File.expand_path(to)
      Trace.announce_process(to) if format == :chrome
      after(*names) do |call|
        line = case format
               when :strace then Trace.strace(call, strsize, time)
               when :jsonl then Trace.jsonl(call, strsize)
               else Trace.chrome(call, strsize)
               end
        __trace_write(to, line)
      end
    end
  end
end
