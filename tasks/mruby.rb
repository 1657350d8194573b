# Where mruby's source tree comes from.
#
# By default: the `mruby/` folder of the crates.io package mruby3-sys =3.2.0,
# fetched by cargo through mruby-source/Cargo.toml (never built) and pinned by
# checksum in mruby-source/Cargo.lock. The tree is only read: every build
# product goes under MRUBY_BUILD_DIR.
#
# MRUBY_ROOT=/path/to/mruby (any checkout of mruby >= 3.2) overrides it.
require "json"
require "open3"

module Hijack
  module MRubySource
    APP_ROOT = File.expand_path("..", __dir__)
    MANIFEST = File.join(APP_ROOT, "mruby-source", "Cargo.toml")
    MINIMUM = [3, 2]

    module_function

    def root
      @root ||= begin
        dir = ENV["MRUBY_ROOT"].to_s.empty? ? fetch : File.expand_path(ENV["MRUBY_ROOT"])
        check!(dir)
        dir
      end
    end

    # Asks cargo for the pinned package, downloading it if needed.
    def fetch
      out, err, status = Open3.capture3("cargo", "metadata", "--locked", "--format-version", "1",
                                        "--manifest-path", MANIFEST)
      abort "hijack: cargo could not fetch mruby (#{MANIFEST}):\n#{err}" unless status.success?
      pkg = JSON.parse(out)["packages"].find { |p| p["name"] == "mruby3-sys" }
      abort "hijack: mruby3-sys missing from #{MANIFEST}" unless pkg
      File.join(File.dirname(pkg["manifest_path"]), "mruby")
    end

    def version(dir)
      header = File.join(dir, "include", "mruby", "version.h")
      return nil unless File.file?(header)
      text = File.read(header)
      %w[MAJOR MINOR TEENY].map { |part| text[/#define MRUBY_RELEASE_#{part}\s+(\d+)/, 1].to_i }
    end

    def check!(dir)
      v = version(dir)
      abort "hijack: #{dir} is not an mruby source tree (no include/mruby/version.h)" unless v
      return if (v.first(2) <=> MINIMUM) >= 0
      abort "hijack: #{dir} holds mruby #{v.join('.')}; hijack needs mruby >= #{MINIMUM.join('.')}"
    end
  end
end
