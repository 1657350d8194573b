#!/usr/bin/env ruby
# hijack's benchmark: every workload of bench/*.c under every mode, side by
# side in one run (modes alternate within each repetition), medians and
# min-max of the time per operation, ratios to the bare run, and the
# targets of the project with PASS or MISS. Writes build/bench/results.json
# and docs/performance.md. Run by `script/bench` (or `rake bench`), which
# builds hijack and installs the peer tools first.
#
# Environment: BENCH_REPS (repetitions, default 5), BENCH_SCALE (multiplies
# the iteration counts, default 1), BENCH_WORKLOADS and BENCH_MODES (comma-
# separated parts of names: only those run, bare always; such a partial run
# prints its table and leaves docs/performance.md alone).
require "etc"
require "fileutils"
require "json"
require "open3"
require "tmpdir"
require_relative "coverage"
require_relative "servers"
require_relative "build"

ROOT = File.expand_path("..", __dir__)
BUILD = File.join(ROOT, "build")
LIB = File.join(BUILD, "host", "lib", "libhijack.so")
OUT = File.join(BUILD, "bench")
REPS = Integer(ENV.fetch("BENCH_REPS", "5"))
SCALE = Float(ENV.fetch("BENCH_SCALE", "1"))

abort "bench: #{LIB} is missing: run `rake compile` first" unless File.file?(LIB)

def scaled(n)
  [(n * SCALE).round, 1].max
end

# Keeps the entries whose names contain one of the comma-separated parts in
# the variable `var` (all when it is unset); `always` stays.
def only(table, var, always = nil)
  parts = ENV[var].to_s.split(",").map(&:strip).reject(&:empty?)
  return table if parts.empty?
  kept = table.select { |name, _| name == always || parts.any? { |p| name.include?(p) } }
  abort "bench: #{var}=#{ENV[var]} matches nothing (#{table.keys.join(', ')})" if kept.keys == [always].compact
  kept
end
PARTIAL = %w[BENCH_WORKLOADS BENCH_MODES BENCH_BASELINE].any? { |v| !ENV[v].to_s.empty? }

# --- the workloads -------------------------------------------------------
FileUtils.mkdir_p(File.join(OUT, "bin"))
%w[io_loop hot read_file spawn nothing threads raw sigsys_floor dispatch_on shell_loop first_call].each do |name|
  src = File.join(ROOT, "bench", "#{name}.c")
  exe = File.join(OUT, "bin", name)
  next if File.exist?(exe) && File.mtime(exe) > File.mtime(src) && File.mtime(exe) > File.mtime(File.join(ROOT, "bench", "common.h"))
  system("cc", "-O2", "-pthread", "-o", exe, src) or abort "bench: cannot build #{src}"
end
BIN = ->(name) { File.join(OUT, "bin", name) }

scratch = File.directory?("/dev/shm") ? Dir.mktmpdir("hijack-bench", "/dev/shm") : Dir.mktmpdir("hijack-bench")
at_exit { FileUtils.rm_rf(scratch) }
big = File.join(scratch, "big")
File.open(big, "wb") { |f| chunk = "x" * (1 << 20); 256.times { f.write(chunk) } }

# name => [argv, the calls it makes (for hooks), a call that has a path]
WORKLOADS = {
  "io loop" => [[BIN["io_loop"], scratch, scaled(20_000).to_s], %i[open write close], :open],
  "hot call" => [[BIN["hot"], scaled(1_000_000).to_s], %i[close], :close],
  "read 4K" => [[BIN["read_file"], big, "4096"], %i[open read close], :open],
  "read 64K" => [[BIN["read_file"], big, "65536"], %i[open read close], :open],
  "process start" => [[BIN["spawn"], BIN["nothing"], scaled(300).to_s], %i[fork execl], nil],
  "300 processes from sh" => [[BIN["shell_loop"], scaled(300).to_s], %i[fork execve], nil],
  "threads" => [[BIN["threads"], scratch, "4", scaled(10_000).to_s], %i[open write close], :open],
  "first call of a process" => [[BIN["first_call"], "process", scaled(100).to_s], %i[close], :close],
  "first call of a thread" => [[BIN["first_call"], "thread", scaled(300).to_s], %i[close], :close],
  "first call of a thread, the others alive" => [[BIN["first_call"], "alive", scaled(50).to_s], %i[close], :close],
  "raw call" => [[BIN["raw"], scaled(200_000).to_s], %i[close], :close],
  "SIGSYS floor" => [[BIN["sigsys_floor"], scaled(200_000).to_s], %i[close], :close],
  "dispatch on, none dispatched" => [[BIN["dispatch_on"], scaled(1_000_000).to_s], %i[close], :close],
}.then { |w| only(w, "BENCH_WORKLOADS") }.freeze

def list(calls)
  calls.map(&:inspect).join(", ")
end

# BENCH_BASELINE=/path/to/libhijack.so (another build, e.g. of the commit
# before a change): every hijack mode is run with it too, alternating in
# the same run, as "MODE [baseline]".
def with_baseline(modes)
  base = ENV["BENCH_BASELINE"].to_s
  return modes if base.empty?
  abort "bench: BENCH_BASELINE=#{base} is not a file" unless File.file?(base)
  modes.each_with_object({}) do |(name, mode), out|
    out[name] = mode
    next unless name.start_with?("hijack")
    out["#{name} [baseline]"] = lambda do |workload|
      setup = mode.call(workload)
      setup && [setup[0].merge("LD_PRELOAD" => base), *setup[1..]]
    end
  end
end

# --- the modes -----------------------------------------------------------
# Each: ->(workload) { [env, argv prefix, iteration divisor] } or nil when
# the mode does not apply to that workload.
trace_file = File.join(scratch, "trace.out")
MODES = {
  "bare" => ->(_) { [{}, [], 1] },
  "hijack, nothing hooked" => ->(_) { [{ "LD_PRELOAD" => LIB }, [], 1] },
  "hijack, hook on an unused call" => ->(_) { [{ "LD_PRELOAD" => LIB, "HIJACK_EVAL" => "Hijack.on(:socket) { |c| c.proceed }" }, [], 1] },
  "hijack, observe-only Ruby hook" => lambda do |(_, calls, _)|
    [{ "LD_PRELOAD" => LIB, "HIJACK_EVAL" => "Hijack.after(#{list(calls)}) { |c| Hijack::Shared.incr(:n) }" }, [], 1]
  end,
  "hijack, path filter never matching" => lambda do |(_, _, path_call)|
    next nil unless path_call
    [{ "LD_PRELOAD" => LIB, "HIJACK_EVAL" => "Hijack.before(#{path_call.inspect}, path: \"/nonexistent/**\") { }" }, [], 1]
  end,
  "hijack, tracing every call to a file" => lambda do |(_, calls, _)|
    [{ "LD_PRELOAD" => LIB, "HIJACK_EVAL" => "Hijack.trace(#{list(calls)}, to: #{trace_file.inspect})" }, [], 1]
  end,
  "hijack, one VM per call (the talk's naive design)" => lambda do |(_, calls, _)|
    [{ "LD_PRELOAD" => LIB, "HIJACK_VM" => "per-call", "HIJACK_EVAL" => "Hijack.after(#{list(calls)}) { |c| Hijack::Shared.incr(:n) }" }, [], 100]
  end,
  # complete mode: every system call through Syscall User Dispatch (the
  # script is needed: without hooks the library does not start)
  "hijack --all-syscalls, hook on an unused call" => lambda do |_|
    [{ "LD_PRELOAD" => LIB, "HIJACK_ALL_SYSCALLS" => "1", "HIJACK_EVAL" => "Hijack.on(:socket) { |c| c.proceed }" }, [], 1]
  end,
  "hijack --all-syscalls, observe-only Ruby hook" => lambda do |(_, calls, _)|
    [{ "LD_PRELOAD" => LIB, "HIJACK_ALL_SYSCALLS" => "1", "HIJACK_EVAL" => "Hijack.after(#{list(calls)}) { |c| Hijack::Shared.incr(:n) }" }, [], 1]
  end,
  # (every call through SIGSYS, no site rewritten: the raw call only)
  "hijack --all-syscalls=sigsys, hook on an unused call" => lambda do |(argv, _, _)|
    next nil unless argv.first.end_with?("/raw")
    [{ "LD_PRELOAD" => LIB, "HIJACK_ALL_SYSCALLS" => "sigsys", "HIJACK_EVAL" => "Hijack.on(:socket) { |c| c.proceed }" }, [], 1]
  end,
  "hijack --all-syscalls=sigsys, observe-only Ruby hook" => lambda do |(argv, calls, _)|
    next nil unless argv.first.end_with?("/raw")
    [{ "LD_PRELOAD" => LIB, "HIJACK_ALL_SYSCALLS" => "sigsys", "HIJACK_EVAL" => "Hijack.after(#{list(calls)}) { |c| Hijack::Shared.incr(:n) }" }, [], 1]
  end,
  "strace -f -o FILE" => ->(_) { [{}, ["strace", "-f", "-o", trace_file], 10] },
  "ltrace -f -o FILE" => lambda do |(argv, _, _)|
    next nil unless argv.first.end_with?("io_loop", "hot")
    [{}, ["ltrace", "-f", "-o", trace_file], 100]
  end,
  "fiu-run -x" => ->(_) { [{}, ["fiu-run", "-x"], 1] },
}.then { |m| with_baseline(m) }.then { |m| only(m, "BENCH_MODES", "bare") }.freeze

def available?(tool)
  system("sh", "-c", "command -v #{tool} >/dev/null 2>&1")
end

# The workload's argv with its iteration count divided (slow modes run fewer
# iterations; results are per operation).
def divided(argv, divisor)
  return argv if divisor == 1
  argv.each_with_index.map do |a, i|
    i == argv.size - 1 && a.match?(/\A\d+\z/) && !a.match?(/\A(4096|65536)\z/) ? [a.to_i / divisor, 1].max.to_s : a
  end
end

def run_once(env, argv)
  out, err, st = Open3.capture3(env, *argv)
  raise "#{argv.join(' ')} failed (#{st.exitstatus}): #{err}" unless st.success?
  m = out.match(/ns=(\d+) n=(\d+) rss_kb=(-?\d+)/) or raise "no result from #{argv.join(' ')}: #{out}"
  { per_op: m[1].to_f / m[2].to_i, rss_kb: m[3].to_i }
end

samples = Hash.new { |h, k| h[k] = [] }
skipped = {}
REPS.times do |rep|
  WORKLOADS.each do |wname, workload|
    MODES.each do |mname, mode|
      setup = mode.call(workload)
      # (the floors have dispatch of their own: bare only)
      setup = nil if ["SIGSYS floor", "dispatch on, none dispatched"].include?(wname) && mname != "bare"
      next skipped[[wname, mname]] = "does not apply" unless setup
      env, prefix, divisor = setup
      tool = prefix.first
      next skipped[[wname, mname]] = "#{tool} not installed" if tool && !available?(tool)
      begin
        samples[[wname, mname]] << run_once(env, prefix + divided(workload[0], divisor))
      rescue RuntimeError => e
        skipped[[wname, mname]] = e.message.lines.first.strip
      end
    end
  end
  warn "bench: repetition #{rep + 1}/#{REPS} done"
end

def median(xs)
  s = xs.sort
  s.size.odd? ? s[s.size / 2] : (s[s.size / 2 - 1] + s[s.size / 2]) / 2.0
end

results = {}
samples.each do |key, runs|
  per_op = runs.map { |r| r[:per_op] }
  results[key] = { median: median(per_op), min: per_op.min, max: per_op.max,
                   rss_kb: median(runs.map { |r| r[:rss_kb] }), runs: runs.size }
end

def fmt_ns(ns)
  ns >= 1_000_000 ? format("%.2f ms", ns / 1e6) : ns >= 10_000 ? format("%.1f us", ns / 1e3) : format("%.1f ns", ns)
end

lines = []
lines << "| workload | mode | per operation (median) | min - max | x bare |"
lines << "|---|---|---:|---:|---:|"
WORKLOADS.each_key do |w|
  bare = results[[w, "bare"]]
  MODES.each_key do |m|
    r = results[[w, m]]
    if r.nil?
      lines << "| #{w} | #{m} | n/a | | #{skipped[[w, m]]} |"
      next
    end
    ratio = bare ? format("%.2fx", r[:median] / bare[:median]) : ""
    lines << "| #{w} | #{m} | #{fmt_ns(r[:median])} | #{fmt_ns(r[:min])} - #{fmt_ns(r[:max])} | #{ratio} |"
  end
end

# --- targets -------------------------------------------------------------
def med(results, w, m)
  results.dig([w, m], :median)
end

targets = []
target = lambda do |what, value, limit, unit, better = :lower|
  if value.nil?
    targets << ["MISS", what, "not measured"]
    next
  end
  ok = better == :lower ? value <= limit : value >= limit
  shown = unit == "x" ? format("%.3fx", value) : %w[KiB calls].include?(unit) ? format("%d %s", value, unit) : format("%.1f %s", value, unit)
  targets << [ok ? "PASS" : "MISS", what, "#{shown} (target #{better == :lower ? '<=' : '>='} #{limit} #{unit})"]
end
ratio = ->(w, m) { (a = med(results, w, m)) && (b = med(results, w, "bare")) && a / b }
added = ->(w, m) { (a = med(results, w, m)) && (b = med(results, w, "bare")) && a - b }

["io loop", "read 4K", "read 64K"].each do |w|
  target.call("nothing hooked, #{w}", ratio.call(w, "hijack, nothing hooked"), 1.02, "x")
end
target.call("nothing hooked, added per call (hot call)", added.call("hot call", "hijack, nothing hooked"), 5, "ns")
target.call("observe-only Ruby hook, io loop", ratio.call("io loop", "hijack, observe-only Ruby hook"), 1.10, "x")
target.call("observe-only Ruby hook, added per hooked call (hot call)", added.call("hot call", "hijack, observe-only Ruby hook"), 150, "ns")
target.call("native path filter never matching, added per call (hot call)", added.call("hot call", "hijack, path filter never matching"), 10, "ns")
spawn_added = added.call("process start", "hijack, hook on an unused call")
target.call("process start with a script, added per process", spawn_added && spawn_added / 1e6, 1, "ms")
# (issue 18: many short processes, each hooking nothing it calls)
target.call("300 processes from sh, library preloaded with no script", ratio.call("300 processes from sh", "hijack, nothing hooked"), 1.15, "x")
target.call("300 processes from sh, a script hooking a call they never make", ratio.call("300 processes from sh", "hijack, hook on an unused call"), 1.5, "x")
strace_sh = med(results, "300 processes from sh", "strace -f -o FILE")
unused_sh = med(results, "300 processes from sh", "hijack, hook on an unused call")
target.call("300 processes from sh: strace -f -o vs a script hooking a call they never make", strace_sh && unused_sh && strace_sh / unused_sh, 2, "x", :higher)
target.call("4 threads with hooks vs their bare run", ratio.call("threads", "hijack, observe-only Ruby hook"), 1.15, "x")
# (a process an exec started opens its VM and runs the scripts at its first
# hooked call; a new thread takes the VM a thread that exited left, or opens
# one when none is idle)
first_process = added.call("first call of a process", "hijack, observe-only Ruby hook")
target.call("a process's first hooked call: VM opened and scripts run", first_process && first_process / 1000.0, 200, "us")
first_thread = added.call("first call of a thread", "hijack, observe-only Ruby hook")
target.call("a new thread's first hooked call (threads one after another: the last one's VM)", first_thread && first_thread / 1000.0, 100, "us")
first_alive = added.call("first call of a thread, the others alive", "hijack, observe-only Ruby hook")
target.call("a new thread's first hooked call while the others live: its own VM opened", first_alive && first_alive / 1000.0, 100, "us")
# (--all-syscalls: the raw call's site is rewritten after its first calls;
# =sigsys keeps every call on the SIGSYS path)
raw_added = added.call("raw call", "hijack --all-syscalls, observe-only Ruby hook")
target.call("--all-syscalls: a raw call with an observe-only Ruby hook, added per call (its site rewritten)", raw_added && raw_added / 1000.0, 2, "us")
target.call("--all-syscalls, stretch: the same through the rewritten site", raw_added && raw_added / 1000.0, 0.3, "us")
unhooked_fast = added.call("raw call", "hijack --all-syscalls, hook on an unused call")
target.call("--all-syscalls: a raw call no hook wants, added per call (its site rewritten)", unhooked_fast && unhooked_fast / 1000.0, 0.3, "us")
sigsys_added = added.call("raw call", "hijack --all-syscalls=sigsys, observe-only Ruby hook")
target.call("--all-syscalls=sigsys: a raw call caught through SIGSYS with an observe-only Ruby hook, added per call", sigsys_added && sigsys_added / 1000.0, 2, "us")
unhooked_raw = added.call("raw call", "hijack --all-syscalls=sigsys, hook on an unused call")
target.call("--all-syscalls=sigsys: a raw call no hook wants, added per call (the SIGSYS round trip)", unhooked_raw && unhooked_raw / 1000.0, 2, "us")
# (what a minimal SIGSYS handler costs on this machine, in the same run)
floor_round = (a = med(results, "SIGSYS floor", "bare")) && (b = med(results, "raw call", "bare")) && a - b
target.call("--all-syscalls' SIGSYS round trip vs a minimal SIGSYS handler's", unhooked_raw && floor_round && floor_round > 0 && unhooked_raw / floor_round, 1.25, "x")
# (the kernel's own cost per system call of a thread with dispatch on, in
# the same run: every call under --all-syscalls pays it)
kernel_on = (a = med(results, "dispatch on, none dispatched", "bare")) && (b = med(results, "hot call", "bare")) && a - b
["io loop", "hot call"].each do |w|
  sud = med(results, w, "hijack --all-syscalls, observe-only Ruby hook")
  symbol = med(results, w, "hijack, observe-only Ruby hook")
  target.call("--all-syscalls vs the C library's functions only, observe-only hooks, #{w}", sud && symbol && sud / symbol, 1.10, "x")
end
sud_hot = med(results, "hot call", "hijack --all-syscalls, observe-only Ruby hook")
symbol_hot = med(results, "hot call", "hijack, observe-only Ruby hook")
target.call("the same, hot call, less what the kernel adds to a call of a thread with dispatch on (#{kernel_on ? fmt_ns(kernel_on) : 'n/a'})",
            sud_hot && symbol_hot && kernel_on && (sud_hot - kernel_on) / symbol_hot, 1.10, "x")
strace_io = med(results, "io loop", "strace -f -o FILE")
traced_io = med(results, "io loop", "hijack, tracing every call to a file")
target.call("tracing every call to a file vs strace -f -o, io loop", strace_io && traced_io && strace_io / traced_io, 20, "x", :higher)
one_vm = (a = results.dig(["io loop", "hijack, observe-only Ruby hook"], :rss_kb)) && (b = results.dig(["io loop", "bare"], :rss_kb)) && a - b
target.call("memory added by one VM", one_vm, 2048, "KiB")
four = (a = results.dig(["threads", "hijack, observe-only Ruby hook"], :rss_kb)) && (b = results.dig(["threads", "bare"], :rss_kb)) && a - b
per_thread = four && one_vm && (four - one_vm) / 4.0
target.call("memory per additional thread VM", per_thread, 512, "KiB")

# --- real servers (bench/servers.rb) ---------------------------------------
unless PARTIAL
  server_modes = Servers.modes(LIB).keys
  servers = Servers.measure(LIB, REPS)
  lines << ""
  lines << "Real servers (the clients bare, the server as the mode says; #{REPS} runs, the median), requests or"
  lines << "transactions per second:"
  lines << ""
  lines.concat(Servers.table(servers, server_modes))
  servers.each do |name, test, v|
    share = test && v["bare"].to_f > 0 && v["hijack, observe-all Ruby hook"] && v["hijack, observe-all Ruby hook"] / v["bare"]
    target.call("#{name}#{test ? ", #{test}" : ''}: throughput with an observe-all Ruby hook vs bare", share || nil, 0.95, "x", :higher)
  end
end

# --- a real build (bench/build.rb) -----------------------------------------
unless PARTIAL
  build_modes = Build.modes(LIB).keys
  build = Build.measure(ROOT, LIB, REPS)
  lines << ""
  lines << "A real build, wall time (#{REPS} runs, the median):"
  lines << ""
  lines.concat(Build.table(build, build_modes))
  observed = build.is_a?(Hash) && build["bare"] && build["hijack, observe-all Ruby hook"]
  target.call("make -j2 of mruby's core with an observe-all Ruby hook in every process vs bare",
              observed ? observed / build["bare"] : nil, 1.3, "x")
end

# --- coverage of --all-syscalls (bench/coverage.rb) ------------------------
unless PARTIAL
  coverage = Coverage.measure(ROOT, File.join(BUILD, "host", "bin", "hijack"))
  lines << ""
  lines << "Coverage of `--all-syscalls`: the system calls `strace -f` shows a bare run make after the point where"
  lines << "hijack's library starts, that `hijack run --all-syscalls --trace all,memory` does not show (by name):"
  lines << ""
  lines.concat(Coverage.table(coverage))
  coverage.each do |name, _total, missing, _which|
    target.call("--all-syscalls coverage, #{name}: calls strace shows and the trace does not", missing, 0, "calls")
  end
end

lines << ""
targets.each { |status, what, detail| lines << "- **#{status}** #{what}: #{detail}" }

machine = {
  cpu: File.read("/proc/cpuinfo")[/model name\s*:\s*(.+)/, 1],
  cores: Etc.nprocessors,
  kernel: `uname -r`.strip,
  date: Time.now.utc.strftime("%Y-%m-%d %H:%M UTC"),
  repetitions: REPS,
  scale: SCALE,
}

puts lines
if PARTIAL
  warn "bench: a partial run (BENCH_WORKLOADS/BENCH_MODES): docs/performance.md and results.json left as they were"
  exit
end
FileUtils.mkdir_p(OUT)
File.write(File.join(OUT, "results.json"), JSON.pretty_generate(
  machine: machine,
  results: results.map { |(w, m), r| { workload: w, mode: m }.merge(r) },
  skipped: skipped.map { |(w, m), why| { workload: w, mode: m, why: why } },
  targets: targets.map { |s, w, d| { status: s, target: w, measured: d } },
))
docs = File.join(ROOT, "docs", "performance.md")
FileUtils.mkdir_p(File.dirname(docs))
# The targets of the runs before this one stay in the file, newest first (the
# last six), so that a change shows against what was measured before it.
old = File.exist?(docs) ? File.read(docs) : ""
runs = old[/^## Earlier runs\n.*/m].to_s.split(/^(?=### )/).grep(/\A### /)
made = old[/^Made by `script\/bench` .*? on\n(.+?)\.\n/m, 1]
old_targets = old.split(/^## Earlier runs\n/, 2).first.to_s.lines.grep(/\A- \*\*(PASS|MISS)\*\*/)
runs.unshift("### #{made}\n\n#{old_targets.join}\n") if made && !old_targets.empty?
history = runs.first(6).map { |r| r.rstrip + "\n" }.join("\n")
File.write(docs, <<~MD)
  # Performance

  Made by `script/bench` (#{REPS} repetitions, modes alternating within each, scale #{SCALE}) on
  #{machine[:date]}: #{machine[:cpu]}, #{machine[:cores]} cores, Linux #{machine[:kernel]}.
  The machines here are shared and noisy: the ratios measured within one run are what count.
  Times are per operation of each workload (`bench/*.c`): one open/write/close round for the io
  loop, one `close(-1)` for the hot call, one `read` for the reads, one fork+exec+wait for process
  start, one round per thread for threads. Slow modes run fewer iterations (per-operation times
  stay comparable). The JSON is in `build/bench/results.json`.

  #{lines.join("\n")}

  ## Earlier runs

  What the targets measured in the runs before this one, newest first (the machine may differ).

  #{history}
MD
warn "bench: wrote #{docs} and #{File.join(OUT, 'results.json')}"
