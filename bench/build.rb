# A real build under hijack (issue 18): `make -j2` compiling mruby's core
# (the C files of the vendored mruby 3.2.0, from cargo's registry, with the
# presym headers of hijack's own build) into a static library, in a
# temporary directory: bare, with an observe-all Ruby hook in every process
# of the build (make, the compiler driver, cc1, as, ar: the scripts run in
# each at its first call) and under `strace -f -o FILE`. Wall time, the
# median of the runs. Required by bench/run.rb; `ruby bench/build.rb` prints
# the table alone.
require "fileutils"
require "open3"
require "tmpdir"
require_relative "servers"

module Build
  module_function

  MAKEFILE = <<~'MAKE'.freeze
    # mruby's core, as a project's Makefile builds it
    OBJS = $(patsubst $(SRC)/%.c,obj/%.o,$(wildcard $(SRC)/*.c))
    libcore.a: $(OBJS)
    	ar rcs $@ $^
    obj/%.o: $(SRC)/%.c | obj
    	$(CC) -O1 -I$(INC) -I$(PRESYM) -c $< -o $@
    obj:
    	mkdir -p obj
  MAKE

  def mruby_tree(root)
    home = ENV["CARGO_HOME"] || File.join(Dir.home, ".cargo")
    Dir.glob(File.join(home, "registry", "src", "*", "mruby3-sys-3.2.0", "mruby")).first ||
      raise("no mruby3-sys-3.2.0 in cargo's registry (script/bootstrap fetches it)")
  end

  def modes(library)
    {
      "bare" => ->(_dir) { [{}, []] },
      "hijack, observe-all Ruby hook" => ->(_dir) { [{ "LD_PRELOAD" => library, "HIJACK_EVAL" => Servers::OBSERVE_ALL }, []] },
      "strace -f -o FILE" => ->(dir) { [{}, ["strace", "-f", "-o", File.join(dir, "strace.out")]] },
    }
  end

  # {mode => seconds} (the median of `reps` builds each), or a string saying
  # why there is none.
  def measure(root, library, reps = 1)
    tree = mruby_tree(root)
    presym = File.join(root, "build", "host", "include")
    raise "no #{presym}/mruby/presym (build hijack first)" unless File.directory?(File.join(presym, "mruby", "presym"))
    times = Hash.new { |h, k| h[k] = [] }
    reps.times do
      modes(library).each do |mode, setup|
        Dir.mktmpdir("hijack-build") do |dir|
          File.write(File.join(dir, "Makefile"), MAKEFILE)
          env, prefix = setup.call(dir)
          vars = ["SRC=#{tree}/src", "INC=#{tree}/include", "PRESYM=#{presym}"]
          start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
          _out, err, st = Open3.capture3(env, *prefix, "make", "-s", "-j2", "-C", dir, *vars)
          raise "make under #{mode} failed: #{err.lines.last(3).join}" unless st.success?
          times[mode] << Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
          raise "make under #{mode} made no library" unless File.size?(File.join(dir, "libcore.a"))
        end
      end
    end
    times.transform_values { |ts| ts.sort[ts.size / 2] }
  rescue RuntimeError => e
    e.message
  end

  def table(result, modes)
    return ["| build | n/a: #{result} |", "|---|---|"] if result.is_a?(String)
    ratio = ->(m) { result[m] && result["bare"] ? format("%.2fx", result[m] / result["bare"]) : "n/a" }
    ["| build | #{modes.join(' | ')} | hijack x bare | strace x bare |",
     "|---|#{'---:|' * modes.size}---:|---:|",
     "| make -j2, mruby's core (#{Dir.glob("#{mruby_tree(nil)}/src/*.c").size} C files) | " \
     "#{modes.map { |m| result[m] ? format('%.2f s', result[m]) : 'n/a' }.join(' | ')} | " \
     "#{ratio.call('hijack, observe-all Ruby hook')} | #{ratio.call('strace -f -o FILE')} |"]
  end
end

if $PROGRAM_NAME == __FILE__
  root = File.expand_path("..", __dir__)
  library = File.join(root, "build", "host", "lib", "libhijack.so")
  puts Build.table(Build.measure(root, library, (ARGV[0] || 1).to_i), Build.modes(library).keys)
end
