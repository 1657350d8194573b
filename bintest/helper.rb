# Shared by the bintests (run by CRuby through mruby's test/bintest.rb, with
# BUILD_DIR set to the build under test).
require "open3"
require "tmpdir"

return if defined?(HijackBintest)

module HijackBintest
  ROOT = File.expand_path("..", __dir__)

  module_function

  def exe
    cmd_bin("hijack")
  end

  def library
    File.join(ENV.fetch("BUILD_DIR"), "lib", "libhijack.so")
  end

  # Runs `hijack ARGS...`; returns [stdout, stderr, Process::Status].
  def hijack(*args, env: {}, stdin: "")
    Open3.capture3(env, exe, *args, stdin_data: stdin)
  end

  FIXTURES = File.expand_path("../test/fixtures", __dir__)

  # A real python3 executable (not a pyenv shim, which runs dozens of
  # processes of its own).
  def python
    @python ||= `python3 -c 'import sys; print(sys.executable)'`.strip
  end

  def in_tmpdir
    Dir.mktmpdir("hijack-bintest") { |dir| yield dir }
  end

  def write(path, text)
    File.write(path, text)
    path
  end
end
