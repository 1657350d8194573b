require_relative "helper"
include HijackBintest

# Live control (issue 6): hijack run --control, hijack ps, hijack ctl.

assert("ctl injects a fault into a running python loop, and removes it again") do
  native_programs_only("python3")
  in_tmpdir do |dir|
    data = write("#{dir}/data", "d")
    with_controlled_reader(data, dir) do |pid, out_r|
      out, err, st = hijack("ctl", pid.to_s, "-e", %(Hijack.fail :read, with: :EIO, path: "**/data"))
      assert_equal 0, st.exitstatus, err
      unit = out[/\Aok (\d+)/, 1]
      assert_not_nil unit
      assert_true wait_until { out_r.gets.to_s.chomp == "error 5" }, "the fault arrives"
      out, _err, _st = hijack("ctl", pid.to_s, "--list")
      assert_include out, "#{unit}\t-e\tHijack.fail"
      _out, _err, st = hijack("ctl", pid.to_s, "--off", unit)
      assert_equal 0, st.exitstatus
      assert_true wait_until { out_r.gets.to_s.chomp == "ok" }, "and leaves"
    end
  end
end

assert("ctl: syntax errors and unknown units are reported; an unreachable pid is exit 1") do
  native_programs_only("sleep")
  pid = Process.spawn(exe, "run", "--control", "--", "sleep", "30")
  begin
    assert_true wait_until { hijack("ps")[0].include?(pid.to_s) }
    _out, err, st = hijack("ctl", pid.to_s, "-e", "Hijack.on(:read) do")
    assert_equal 1, st.exitstatus
    assert_include err, "-e:1: syntax error"
    _out, err, st = hijack("ctl", pid.to_s, "--off", "99")
    assert_equal [1, true], [st.exitstatus, err.include?("no unit 99")]
  ensure
    Process.kill("TERM", pid)
    Process.wait(pid)
  end
  _out, err, st = hijack("ctl", "999999", "--list")
  assert_equal 1, st.exitstatus
  assert_include err, "cannot reach process 999999"
  _out, _err, st = hijack("ctl", "abc")
  assert_equal 2, st.exitstatus
end
