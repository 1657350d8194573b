# The mruby-hijack gem: the Hijack Ruby library (mrblib/), its native part
# (a Rust staticlib built here with cargo for the build's target, plus the
# small C part in src/), the `hijack` runner (tools/hijack/) and, for each
# build, the preload library build/<target>/lib/libhijack.so.
require_relative "tasks/targets"
require_relative "tasks/lazy_relocations"
require "shellwords"

# -z pack-relative-relocs (DT_RELR) where the C library loads it (glibc 2.36
# and later): the preload library's ten thousand relative relocations take
# 3 KB instead of 260 KB, which every process would read. Elsewhere the
# usual relocations, so that the library loads there too.
def packed_relocations(linker)
  @packed_relocations ||= {}
  @packed_relocations[linker] ||= begin
    libc = `#{Shellwords.join(linker)} -print-file-name=libc.so.6 2>/dev/null`.strip
    ok = !libc.empty? && File.file?(libc) && File.binread(libc).include?("GLIBC_ABI_DT_RELR")
    ok ? ["-Wl,-z,pack-relative-relocs"] : []
  end
end

MRuby::Gem::Specification.new("mruby-hijack") do |spec|
  spec.license = "MIT"
  spec.authors = ["hijack developers"]
  spec.summary = "Hand a program's C library calls to hook code written in Ruby"
  spec.version = File.read(File.join(__dir__, "Cargo.toml"))[/^version = "([^"]+)"/, 1]
  spec.bins = %w[hijack]

  %w[mruby-io mruby-errno mruby-time mruby-sprintf mruby-pack mruby-string-ext mruby-array-ext
     mruby-hash-ext mruby-struct mruby-random mruby-sleep mruby-error mruby-eval mruby-metaprog
     mruby-compiler mruby-kernel-ext mruby-object-ext mruby-symbol-ext mruby-proc-ext mruby-enum-ext
     mruby-numeric-ext mruby-range-ext mruby-compar-ext mruby-exit mruby-print
     mruby-fiber mruby-enumerator].each do |core|
    spec.add_dependency core, core: core
  end

  triple = Hijack::Targets.rust_triple(build)
  darwin = Hijack::Targets.darwin?(build)
  gen_dir = "#{spec.build_dir}/gen"
  cflags_file = "#{spec.build_dir}/mruby-cflags.txt"
  cargo_dir = "#{File.dirname(build.build_dir)}/cargo"
  core_lib = "#{spec.build_dir}/libhijack_core.a"
  preload_lib = "#{spec.build_dir}/libhijack_preload.a"
  rust_sources = Dir["#{dir}/src/**/*.{rs,tab,h}"] + ["#{dir}/test/programs/exercise.rs"] + %W[#{dir}/Cargo.toml #{dir}/Cargo.lock #{dir}/build.rs]

  # The exact compiler view of mruby's headers for this build, for bindgen
  # (word boxing and integer width differ between targets), and libmruby for
  # linking `cargo test`.
  file cflags_file => [MRUBY_CONFIG, __FILE__] do |t|
    mkdir_p File.dirname(t.name)
    defines = [build.cc.defines, build.defines].flatten.uniq.map { |d| "-D#{d}" }
    includes = build.cc.include_paths.flatten.uniq.map { |i| "-I#{i}" }
    system_includes = []
    if build.cc.command.include?("ziglang")
      system_includes = Hijack::Targets.zig_include_dirs(build.cc.command).flat_map { |d| ["-isystem", d] }
      # The libclang bindgen runs may predate the macOS headers' TARGET_OS_*
      # extension: state what TargetConditionals.h would have.
      system_includes += Hijack::Targets.darwin_conditionals(triple).map { |k, v| "-D#{k}=#{v}" }
    end
    lines = defines + includes + system_includes + ["#libmruby #{build.libmruby_static}"]
    File.write(t.name, lines.join("\n") + "\n")
  end

  cargo = lambda do |features, out|
    env = {
      "HIJACK_MRUBY_CFLAGS_FILE" => cflags_file,
      "HIJACK_GEN_DIR" => gen_dir,
      "CARGO_TARGET_DIR" => cargo_dir,
    }
    args = %W[cargo build --release --locked --lib --target #{triple} --manifest-path #{dir}/Cargo.toml]
    args += ["--features", features] if features
    sh env, *args
    cp "#{cargo_dir}/#{triple}/release/libhijack.a", out
  end

  # After libmruby: bindgen reads mruby.h, which needs the generated presym
  # headers, and `cargo test` links libmruby.
  file core_lib => rust_sources + [cflags_file, build.libmruby_static] do |t|
    cargo.call("tui", t.name)
  end
  file preload_lib => rust_sources + [cflags_file, core_lib] do |t|
    cargo.call("preload", t.name)
  end
  file "#{gen_dir}/calls.h" => core_lib
  file "#{gen_dir}/exports.map" => core_lib

  # The runner and mrbtest link libmruby, then the core staticlib (no
  # interposed entry points), then libmruby again for the symbols Rust needs.
  # (The build's linker, not the gem's: mruby leaves a gem with binaries out
  # of mrbtest's link.)
  build.linker.flags_before_libraries << %("#{core_lib}") << %("#{build.libmruby_static}")
  build.linker.libraries.concat %w[pthread dl m gcc_s] unless darwin
  file exefile("#{build.build_dir}/bin/hijack") => core_lib
  file exefile("#{build.build_dir}/bin/mrbtest") => core_lib

  # The preload library: libmruby, the gem's C (preload.c compiled again, with
  # its shims and constructor), the preload staticlib; only the interposed
  # functions exported (version script from the call table).
  preload_obj = "#{spec.build_dir}/preload_shared.o"
  file preload_obj => ["#{dir}/src/preload.c", "#{gen_dir}/calls.h"] do |t|
    build.cc.run t.name, t.prerequisites.first, ["HIJACK_PRELOAD"], [gen_dir]
  end
  # Syscall User Dispatch's machine part, its fast path and its i686 part (--all-syscalls;
  # Linux x86_64).
  sud_objs = %w[sud sud_rewrite sud_i386].map do |name|
    obj = "#{spec.build_dir}/#{name}_shared.o"
    file obj => ["#{dir}/src/#{name}.c", "#{dir}/src/sud_common.h"] do |t|
      build.cc.run t.name, t.prerequisites.first, ["HIJACK_PRELOAD"], []
    end
    obj
  end

  so = "#{build.build_dir}/lib/#{darwin ? 'libhijack.dylib' : 'libhijack.so'}"
  file so => [preload_obj, *sud_objs, preload_lib, build.libmruby_static, "#{gen_dir}/exports.map", "#{dir}/tasks/lazy_relocations.rb"] do |t|
    mkdir_p File.dirname(t.name)
    linker = Shellwords.split(build.linker.command) + build.linker.flags.flatten
    if darwin
      # exports.map: the exported-symbols list (the hijack_i_* replacements)
      sh(*linker, "-shared", "-o", t.name, "-Wl,-install_name,@rpath/libhijack.dylib",
         "-Wl,-exported_symbols_list,#{gen_dir}/exports.map",
         preload_obj, *sud_objs, preload_lib, build.libmruby_static)
    else
      # exports.map: the version script; -u pulls every entry point in.
      # -static-libgcc: the unwinder Rust needs is linked in, not loaded:
      # one shared object less for every process to open (~0.08 ms each).
      undefined = File.read("#{gen_dir}/exports.txt").split.map { |name| "-Wl,-u,#{name}" }
      sh(*linker, "-shared", "-o", t.name, "-Wl,--version-script=#{gen_dir}/exports.map", "-Wl,-z,defs",
         *undefined, preload_obj, *sud_objs, "-Wl,--start-group", preload_lib, build.libmruby_static, "-Wl,--end-group",
         *packed_relocations(linker), "-Wl,--gc-sections", "-static-libgcc", "-lpthread", "-ldl", "-lc")
      # mruby's data is relocated by hijack at a process's first VM, not by
      # the loader in every process (tasks/lazy_relocations.rb).
      Hijack::LazyRelocations.patch(t.name) unless packed_relocations(linker).empty?
    end
  end
  build.products << so
end
