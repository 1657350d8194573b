# The targets hijack builds for. A target's name is used everywhere: build
# directories, archives, docs. build_config.rb declares one mruby build per
# target; the gem (mrbgem.rake) reads the Rust triple from it.

module Hijack
  module Targets
    RUST = {
      "x86_64-linux" => "x86_64-unknown-linux-gnu",
      "i686-linux" => "i686-unknown-linux-gnu",
      "x86_64-darwin" => "x86_64-apple-darwin",
      "aarch64-darwin" => "aarch64-apple-darwin",
    }.freeze

    # macOS targets are built here with zig's C compiler (pip: ziglang),
    # which brings the macOS headers and libSystem stubs.
    ZIG = {
      "x86_64-darwin" => "x86_64-macos",
      "aarch64-darwin" => "aarch64-macos",
    }.freeze
    ZIG_COMMAND = "python3 -m ziglang"

    # The cross targets, in build_config.rb's order.
    CROSS = %w[i686-linux x86_64-darwin aarch64-darwin].freeze

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

    def darwin?(build)
      rust_triple(build).include?("apple")
    end

    # The directories zig's compiler searches for system headers for a
    # target (bindgen needs them to read mruby.h for macOS).
    def zig_include_dirs(cc_command)
      out = `echo | #{cc_command} -E -x c - -v 2>&1`
      out[/search starts here:\n(.*?)End of search list/m, 1].to_s.split("\n").map(&:strip).reject(&:empty?)
    end

    TARGET_MACROS = %w[
      TARGET_CPU_68K TARGET_CPU_ALPHA TARGET_CPU_ARM TARGET_CPU_ARM64 TARGET_CPU_MIPS TARGET_CPU_PPC
      TARGET_CPU_PPC64 TARGET_CPU_SPARC TARGET_CPU_X86 TARGET_CPU_X86_64 TARGET_OS_DRIVERKIT
      TARGET_OS_EMBEDDED TARGET_OS_IOS TARGET_OS_IPHONE TARGET_OS_LINUX TARGET_OS_MAC
      TARGET_OS_MACCATALYST TARGET_OS_NANO TARGET_OS_OSX TARGET_OS_RTKIT TARGET_OS_SIMULATOR TARGET_OS_TV
      TARGET_OS_UIKITFORMAC TARGET_OS_UNIX TARGET_OS_VISION TARGET_OS_WATCH TARGET_OS_WIN32
      TARGET_OS_WINDOWS TARGET_RT_64_BIT TARGET_RT_BIG_ENDIAN TARGET_RT_LITTLE_ENDIAN TARGET_RT_MAC_CFM
      TARGET_RT_MAC_MACHO
    ].freeze

    # TargetConditionals.h's answers for macOS on `triple`.
    def darwin_conditionals(triple)
      on = %w[TARGET_OS_MAC TARGET_OS_OSX TARGET_RT_64_BIT TARGET_RT_LITTLE_ENDIAN TARGET_RT_MAC_MACHO]
      on << (triple.start_with?("x86_64") ? "TARGET_CPU_X86_64" : "TARGET_CPU_ARM64")
      # _Float16 (math.h's half-precision functions) is unknown to older
      # libclang on x86_64; hijack binds none of them.
      { "__TARGETCONDITIONALS__" => 1, "_Float16" => "short" }
        .merge(TARGET_MACROS.to_h { |m| [m, on.include?(m) ? 1 : 0] })
    end

    def rust_triple(build)
      RUST.fetch(build.name) { build.host? ? host_rust_triple : abort("hijack: no Rust triple for target #{build.name}") }
    end
  end
end
