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
  err = assert_usage_error("unknown command: frobnicate", "frobnicate")
  assert_include err, "Usage:"
  assert_usage_error("unknown option for run: --frobnicate", "run", "--frobnicate", "--", "true")
  _out, _err, st = hijack
  assert_equal 2, st.exitstatus
end

assert("hijack eval runs Ruby with the Hijack library; exit 1 on an exception") do
  out, err, st = hijack("eval", "-e", <<~RUBY, "x", "y")
    Hijack.before(:unlink, path: "/data/**") { raise Errno::EROFS }
    r = Hijack.simulate(:unlink, path: "/data/a")
    puts [r[:result], r[:errno], ARGV].inspect
  RUBY
  assert_equal [%([-1, #{Errno::EROFS::Errno}, ["x", "y"]]\n), "", 0], [out, err, st.exitstatus]
  _out, err, st = hijack("eval", "-e", "raise 'no'")
  assert_equal [1, "-e:1: RuntimeError: no\n"], [st.exitstatus, err]
end

assert("hijack compile writes bytecode that hijack run loads") do
  in_tmpdir do |dir|
    src = write("#{dir}/hooks.rb", %(Hijack.before(:write, fd: 1) { |c| c.data = c.data.reverse }\n))
    _out, err, st = hijack("compile", src)
    assert_equal ["", 0], [err, st.exitstatus]
    assert_equal "RITE", File.binread("#{dir}/hooks.mrb")[0, 4]
    abc = write("#{dir}/abc", "abc")
    out, _err, st = hijack("run", "-s", "#{dir}/hooks.mrb", "--", cat, abc)
    assert_equal ["cba", 0], [out, st.exitstatus]
    bad = write("#{dir}/bad.rb", "def x(\n")
    _out, err, st = hijack("compile", bad, "-o", "#{dir}/bad.mrb")
    assert_equal 2, st.exitstatus
    assert_match "#{bad}:*", err
    assert_false File.exist?("#{dir}/bad.mrb")
  end
end
