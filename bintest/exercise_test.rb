require_relative "helper"
include HijackBintest

# Every call of the table, made by the program build.rs generates from
# src/calls.tab (test/programs/exercise.rs): each under a hook that checks
# its arguments as the hook sees them and forces EIO, then the result and
# errno the program got.

module Exercise
  module_function

  # name => [convention, ends?, what the hook must see], from `exercise --expect`.
  def calls
    @calls ||= `#{exercise} --expect`.lines.to_h do |line|
      name, convention, ends, desc = line.chomp.split("\t", 4)
      [name, [convention, ends == "ends", desc.to_s]]
    end
  end

  # The hooks: a call whose arguments read as expected is logged and failed
  # with EIO (unless it cannot fail); others (the C library's own, or a call
  # whose arguments read wrong) go through, and what they showed is logged.
  def script(dir)
    write("#{dir}/hooks.rb", <<~RUBY)
      EXPECT = #{calls.transform_values { |c| [c[0], c[2]] }.inspect}
      HOOKED = {}
      SEEN = Hash.new { |h, k| h[k] = [] }

      def describe(call)
        parts = [call.describe_args]
        parts << "addr=\#{call.sockaddr.inspect}" if call.respond_to?(:sockaddr)
        parts << "req=\#{call.req}" if call.respond_to?(:req)
        data = begin
          call.data
        rescue Hijack::Error
          nil
        end
        parts << "data=\#{data.inspect}" if data
        parts.reject(&:empty?).join(", ")
      end

      EXPECT.each do |name, (convention, want)|
        Hijack.before(name) do |call|
          got = describe(call)
          if got == want && !HOOKED[name]
            HOOKED[name] = true
            Hijack.log "exercise: hooked \#{name}"
            raise Errno::EIO unless convention == "none"
          elsif SEEN[name].size < 3 && !HOOKED[name]
            SEEN[name] << got
          end
        end
      end

      Hijack.at_exit do
        SEEN.each { |name, seen| Hijack.log "exercise: \#{name} showed \#{seen.inspect}" unless HOOKED[name] }
      end
    RUBY
  end

  def hooked(log)
    File.exist?(log) ? File.read(log).scan(/^exercise: hooked (\S+)$/).flatten : []
  end
end

assert("the exercise program makes every call of the table for this target") do
  names = Exercise.calls.keys
  listed = hijack("list")[0].lines.map { |l| l.split.first }
  assert_equal listed, names
end

assert("every call of the table: the hook sees its arguments, a forced EIO reaches the program as the convention says") do
  in_tmpdir do |dir|
    log = "#{dir}/log"
    out, err, st = hijack("run", "-s", Exercise.script(dir), "--", exercise, env: { "HIJACK_LOG" => log })
    returning = Exercise.calls.reject { |_n, c| c[1] }
    missing = returning.keys - Exercise.hooked(log)
    shown = File.read(log).lines.grep(/ showed /).join
    assert_equal [], missing, "calls whose hook did not see the arguments made:\n#{shown}"
    wrong = out.lines.grep(/: wrong: /)
    assert_equal [], wrong
    results = out.lines.to_h { |l| l.chomp.split(": ", 2) }
    returning.each do |name, (convention, _ends, _desc)|
      assert_equal convention == "none" ? "made" : "failed as forced", results[name], name
    end
    assert_equal [0, ""], [st.exitstatus, without_loader_noise(err)]
  end
end

assert("the ends of a process (_exit, _Exit): the hook sees the status, the process ends with it") do
  in_tmpdir do |dir|
    Exercise.calls.select { |_n, c| c[1] }.each_key do |name|
      log = "#{dir}/#{name}.log"
      out, _err, st = hijack("run", "-s", Exercise.script(dir), "--", exercise, name, env: { "HIJACK_LOG" => log })
      assert_equal [[name], 0, ""], [Exercise.hooked(log), st.exitstatus, out], name
    end
  end
end
