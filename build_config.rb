# One mruby build per hijack target. The host build is the one the tests run.
# mruby itself is vendored read-only (see tasks/mruby.rb): no lock file is
# written beside this config.
require_relative "tasks/targets"

MRuby::Lockfile.disable

MRuby::Build.new do |conf|
  conf.toolchain :gcc
  # libmruby is linked into a shared object (libhijack.so): position independent.
  conf.cc.flags << "-fPIC"
  conf.gem File.expand_path(__dir__)   # mruby-hijack, which brings the core gems it needs
  conf.enable_test
  conf.enable_bintest
end
