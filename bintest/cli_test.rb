require_relative "helper"
include HijackBintest

assert("hijack --help, help run, run --help") do
  out, _err, st = hijack("--help")
  assert_equal 0, st.exitstatus
  assert_include out, "hijack run [-s FILE]..."
  out, _err, st = hijack("help", "run")
  assert_equal 0, st.exitstatus
  assert_include out, "Usage: hijack run"
  assert_equal out, hijack("run", "--help")[0]
end

assert("hijack version") do
  out, _err, st = hijack("version")
  assert_equal 0, st.exitstatus
  assert_match "hijack *.*.*", out.chomp
end

assert("unknown commands and flags get usage and exit 2") do
  _out, err, st = hijack("frobnicate")
  assert_equal 2, st.exitstatus
  assert_include err, "unknown command: frobnicate"
  assert_include err, "Usage:"
  _out, err, st = hijack("run", "--frobnicate", "--", "true")
  assert_equal 2, st.exitstatus
  assert_include err, "unknown option for run: --frobnicate"
  _out, _err, st = hijack
  assert_equal 2, st.exitstatus
end
