# The targets hijack builds for. A target's name is used everywhere: build
# directories, archives, docs. build_config.rb declares one mruby build per
# target; the gem (mrbgem.rake) reads the Rust triple from it.

module Hijack
  module Targets
    RUST = {
      "x86_64-linux" => "x86_64-unknown-linux-gnu",
      "i686-linux" => "i686-unknown-linux-gnu",
    }.freeze

    # The cross targets, in build_config.rb's order.
    CROSS = %w[i686-linux].freeze

    module_function

    # Whether build_config.rb should declare the cross target `name`: all of
    # them, unless TARGET names some (comma-separated).
    def wanted?(name)
      list = ENV["TARGET"].to_s.split(",").map(&:strip).reject(&:empty?)
      list.empty? || list.include?(name)
    end

    def host_rust_triple
      @host_rust_triple ||= `rustc -vV`[/^host: (\S+)/, 1] || abort("hijack: rustc -vV did not name a host triple")
    end

    def rust_triple(build)
      RUST.fetch(build.name) { build.host? ? host_rust_triple : abort("hijack: no Rust triple for target #{build.name}") }
    end
  end
end
