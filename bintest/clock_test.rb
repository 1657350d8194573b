require_relative "helper"
include HijackBintest

# Fake time (issue 8): Hijack::Clock and run's --time, --freeze, --time-scale.

def elapsed
  start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  yield
  Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
end

assert("--time --freeze: every clock call of a C program says the same second") do
  out, _err, st = hijack("run", "--time", "@1893456000", "--freeze", "--", program("clocks"))
  assert_equal 0, st.exitstatus
  assert_equal "time=1893456000 tloc=1893456000 gettimeofday=1893456000 realtime=1893456000 coarse=1893456000",
               out.lines.first.chomp
end

assert("--time-scale 10: a 200 ms usleep sleeps 20 ms, and the monotonic clock says 200 ms") do
  out, st, sleeps = real_sleeps("run", "--time-scale", "10", "--", program("clocks"))
  assert_equal 0, st.exitstatus
  assert_equal [0.02], sleeps, "the sleep the kernel got"
  ms = out[/monotonic_ms=(\d+)/, 1].to_i
  assert_true ms >= 195, "the program's clock: #{ms} ms"
end

assert("--time: date, python3 and ruby agree, and so do their children") do
  native_programs_only("date, python3, ruby")
  env_check = [
    ["date", "-u", "+%Y-%m-%d %H"],
    [python, "-c", "import time; print(time.strftime('%Y-%m-%d %H', time.gmtime()))"],
    ["ruby", "-e", "puts Time.now.utc.strftime('%Y-%m-%d %H')"],
    ["sh", "-c", "date -u '+%Y-%m-%d %H'"],
    ["env", "-i", "/bin/date", "-u", "+%Y-%m-%d %H"],
    [python, "-c", "import subprocess; subprocess.run(['date', '-u', '+%Y-%m-%d %H'], env={})"],
  ]
  env_check.each do |argv|
    out, err, st = hijack("run", "--time", "2030-01-01 12:00:00+09:00", "--", *argv)
    assert_equal ["2030-01-01 03\n", 0], [out, st.exitstatus], "#{argv.inspect} #{err}"
  end
end

assert("--time travel keeps ticking; --freeze does not") do
  native_programs_only("date")
  out, _err, _st = hijack("run", "--time", "@1893456000", "--", "sh", "-c", "date +%s; sleep 1.1; date +%s")
  a, b = out.split.map(&:to_i)
  assert_true a >= 1_893_456_000 && a < 1_893_456_005 && b - a >= 1, out
  out, _err, _st = hijack("run", "--time", "@1893456000", "--freeze", "--", "sh", "-c", "date +%s; sleep 1.1; date +%s")
  assert_equal "1893456000\n1893456000\n", out
end

assert("--time -1d goes back a day") do
  native_programs_only("date")
  out, _err, _st = hijack("run", "--time", "-1d", "--", "date", "+%s")
  assert_true (Time.now.to_i - 86_400 - out.to_i).abs < 5, out
end

assert("sleep 10 under --time-scale 100 sleeps 0.1 s") do
  native_programs_only("sleep")
  _out, st, sleeps = real_sleeps("run", "--time-scale", "100", "--", "sleep", "10")
  assert_equal [0, [0.1]], [st.exitstatus, sleeps]
end

assert("python3's time.sleep under --time-scale 50 (clock_nanosleep on the monotonic clock)") do
  native_programs_only("python3")
  out = nil
  took = elapsed do
    out, _err, _st = hijack("run", "--time-scale", "50", "--", python, "-c",
                            "import time; t = time.monotonic(); time.sleep(5); print(round(time.monotonic() - t))")
  end
  assert_equal "5\n", out
  # (python sleeps until a deadline, which strace shows as an absolute time:
  # the wall time of the run says the sleep was scaled, being far below 5 s)
  assert_true took < 2.5, "took #{took} s"
end

assert("bad time flags are refused before the command starts") do
  assert_usage_error("--time tomorrow-ish: not a time", "run", "--time", "tomorrow-ish", "--", "true")
  assert_usage_error("--time-scale fast: expected a factor above 0", "run", "--time-scale", "fast", "--", "true")
end
