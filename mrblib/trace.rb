# Tracing: every call of a set, as it happens, in strace's format, as JSON
# lines, or as Chrome trace events (Perfetto, chrome://tracing); and a
# summary like strace -c.
#
#   Hijack.trace(:openat, :read, to: "/tmp/t.log", format: :jsonl)
#   Hijack.trace(:file, :net)                 # groups: file net process time memory, or :all
#   Hijack.trace("%network", "!close")        # strace's classes; ! leaves calls out
#
# Lines from every thread and process go to one file with one write(2)
# each (O_APPEND): never torn, never interleaved, nothing left in a buffer.
module Hijack
  module Trace
    FORMATS = %i[strace jsonl chrome].freeze
    GROUPS = %i[file net process time memory].freeze

    class << self
      # The functions a list of names means: calls (a system call's name
      # means every function making it), hijack's groups (:all: every call
      # but the allocator's, malloc and free, which make no one system call:
      # only `:memory` or their names bring them in),
      # strace's classes (`%file`, `%network`...), and `!NAME` for any of
      # those left out (a list of only those leaves them out of :all).
      def expand(items)
        items = items.flatten.map(&:to_s)
        out, kept = items.partition { |i| i.start_with?("!") }
        kept = ["all"] if kept.empty?
        (kept.flat_map { |i| one(i) } - out.flat_map { |i| one(i[1..-1]) }).uniq
      end

      def one(item)
        table = Hijack.table
        # (under --all-syscalls a function's own system calls are caught: it
        # is in no group, only named)
        table = table.reject(&:inner) if Hijack.all_syscalls?
        if item == "all"
          table.reject { |row| row.groups.include?(:memory) && !row.makes }.map(&:name)
        elsif GROUPS.include?(item.to_sym)
          table.select { |row| row.groups.include?(item.to_sym) }.map(&:name)
        elsif item.start_with?("%")
          Hijack.__of_class(item[1..-1])
        else
          Hijack.__calls_named(item)
        end
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
        name = Policy.json(File.basename(Hijack.__argv0))
        Hijack.__trace_write(to, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":#{Hijack.pid},\"args\":{\"name\":#{name}}},")
      end
    end
  end

  class << self
    # Counts every call of `calls` for the run's summary (hijack run
    # --summary): one line per call name and process, at its exit, to `to`.
    # Counted natively (atomic totals per call), without entering Ruby.
    def count_calls(*calls, to:)
      names = Trace.expand(calls.empty? ? [:all] : calls)
      hook = __register_native(:count, names, nil)
      __count_to(to)
      at_exit { __flush_counts }
      hook
    end

    # Traces the calls (names and groups) to `to` (a file; "-" is hijack's
    # log) in `format` (:strace, :jsonl or :chrome). time: adds each call's
    # duration (strace's -T); strsize: how much of a string or buffer is
    # shown (strace's -s, default 32). Lines are made natively (src/features/trace/)
    # after each call, without entering Ruby. Returns the hook.
    def trace(*calls, to: "-", format: :strace, time: false, strsize: 32)
      format = format.to_sym
      unless Trace::FORMATS.include?(format)
        raise ArgumentError, "format: is one of #{Trace::FORMATS.map(&:inspect).join(', ')}, not #{format.inspect}"
      end
      raise ArgumentError, "strsize: is an Integer >= 0, not #{strsize.inspect}" unless strsize.is_a?(Integer) && strsize >= 0
      names = Trace.expand(calls.empty? ? [:all] : calls)
      to = to == "-" ? "-" : File.expand_path(to)
      Trace.announce_process(to) if format == :chrome
      __register_native(:trace, names, __tracer(to, format, time ? true : false, strsize))
    end
  end
end
