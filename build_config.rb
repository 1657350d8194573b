# One mruby build per hijack target: the host build (`host`, the tests' and
# the release's x86_64-linux on this kind of machine) and a CrossBuild for
# each other target. `rake compile TARGET=i686-linux` (comma-separated)
# limits the cross builds to those named. mruby itself is vendored
# read-only (see tasks/mruby.rb): no lock file is written beside this config.
require_relative "tasks/targets"

MRuby::Lockfile.disable

def hijack_common(conf, runnable: true)
  # libmruby is linked into a shared object (libhijack.so): position independent.
  conf.cc.flags << "-fPIC"
  # One section per function and datum: the library's link (--gc-sections)
  # drops what nothing calls, which is less to map into every process.
  conf.cc.flags << "-ffunction-sections" << "-fdata-sections"
  # 64-bit Integers on every target: file offsets, sizes and addresses fit.
  conf.defines << "MRB_INT64"
  # Every method definition scans the whole method cache: with mruby's 256
  # entries, defining the library's methods was a tenth of a process's
  # start (and of each thread's VM). Hooks call few methods: 32 entries run
  # a hook calling eight of them as fast as 64 did (16 did not).
  conf.defines << "MRB_METHOD_CACHE_SIZE=32"
  conf.gem File.expand_path(__dir__)   # mruby-hijack, which brings the core gems it needs
  return unless runnable
  conf.enable_test
  conf.enable_bintest
end

MRuby::Build.new do |conf|
  conf.toolchain :gcc
  hijack_common(conf)
end

if Hijack::Targets.wanted?("i686-linux")
  MRuby::CrossBuild.new("i686-linux") do |conf|
    conf.toolchain :gcc
    # SSE doubles, as x86_64 has: mruby's float formatting goes wrong with
    # the x87's extended precision.
    conf.cc.flags << "-m32" << "-msse2" << "-mfpmath=sse"
    conf.linker.flags << "-m32"
    # 32-bit programs run natively here: mrbtest and bintest run as they are.
    conf.test_runner.command = "env"
    hijack_common(conf)
  end
end

# macOS: built with zig's compiler, checked from here (script/check-macho),
# not run.
Hijack::Targets::ZIG.each do |name, zig_target|
  next unless Hijack::Targets.wanted?(name)
  MRuby::CrossBuild.new(name) do |conf|
    conf.toolchain :clang
    cc = "#{Hijack::Targets::ZIG_COMMAND} cc -target #{zig_target}"
    conf.cc.command = cc
    conf.linker.command = cc
    conf.archiver.command = "#{Hijack::Targets::ZIG_COMMAND} ar"
    hijack_common(conf, runnable: false)
  end
end
