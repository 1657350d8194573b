require_relative "helper"
include HijackBintest

# Real programs under a hook on every call must behave exactly as without it.
OBSERVED = {
  "cat" => "cat notes.txt",
  "cp" => "cp notes.txt copy.txt && cat copy.txt",
  "ls" => "ls -l --time-style=+ . sub",
  "tar" => "tar cf - notes.txt sub | tar tf -",
  "gzip" => "gzip -cn notes.txt | tee notes.gz | gzip -dc; od -An -tx1 notes.gz",
  "sh pipeline" => "printf 'b\\na\\nb\\n' | sort | uniq -c",
  "python3 threads, subprocess, sockets" => "#{HijackBintest.python} #{HijackBintest::FIXTURES}/mixed.py",
  "git" => "git init -q -b main && git add notes.txt && git commit -q -m first && git log --format='%H %s'",
  "sqlite3" => "sqlite3 db.sqlite 'create table t(x); insert into t values (1),(2); select sum(x) from t;'",
}

GIT_ENV = {
  "GIT_AUTHOR_NAME" => "A", "GIT_AUTHOR_EMAIL" => "a@example.com", "GIT_AUTHOR_DATE" => "2000-01-01T00:00:00Z",
  "GIT_COMMITTER_NAME" => "A", "GIT_COMMITTER_EMAIL" => "a@example.com",
  "GIT_COMMITTER_DATE" => "2000-01-01T00:00:00Z", "GIT_CONFIG_NOSYSTEM" => "1",
}

def fixture_dir(dir)
  Dir.mkdir("#{dir}/sub")
  File.write("#{dir}/notes.txt", "meeting moved to noon\n" * 50)
  File.write("#{dir}/sub/a.txt", "a\n")
  dir
end

def observed_run(command, hooked, dir, log)
  env = GIT_ENV.merge("HOME" => dir, "HIJACK_LOG" => log)
  argv = ["sh", "-c", command]
  argv = [exe, "run", "-s", "#{FIXTURES}/observe_all.rb", "--"] + argv if hooked
  out, err, st = Open3.capture3(env, *argv, chdir: dir)
  [out, err, st.exitstatus]
end

OBSERVED.each do |name, command|
  assert("observe-everything hooks: #{name} behaves as without hijack") do
    native_programs_only(name)
    in_tmpdir do |tmp|
      bare_dir = fixture_dir(Dir.mkdir("#{tmp}/bare") && "#{tmp}/bare")
      hooked_dir = fixture_dir(Dir.mkdir("#{tmp}/hooked") && "#{tmp}/hooked")
      log = "#{tmp}/hijack.log"
      bare = observed_run(command, false, bare_dir, "#{tmp}/unused.log")
      hooked = observed_run(command, true, hooked_dir, log)
      assert_equal bare, hooked
      assert_hooks_ran(log)
    end
  end
end

assert("observe-everything hooks: this target's test programs behave as without hijack") do
  in_tmpdir do |dir|
    fixture_dir(dir)
    [[program("hcat"), "notes.txt", "sub/a.txt", "missing"], [program("offsets")]].each do |argv|
      bare = Open3.capture3(*argv, chdir: dir)
      log = "#{dir}/hijack.log"
      hooked = Open3.capture3({ "HIJACK_LOG" => log }, exe, "run", "-s", "#{FIXTURES}/observe_all.rb", "--",
                              *argv, chdir: dir)
      assert_equal [bare[0], bare[1], bare[2].exitstatus], [hooked[0], hooked[1], hooked[2].exitstatus]
      assert_hooks_ran(log)
    end
  end
end

assert("64-bit file offsets reach hooks whole") do
  in_tmpdir do |dir|
    hooks = %(Hijack.after(:lseek, :lseek64, :pread, :pread64) { |c| Hijack.log "\#{c.function} \#{c.offset} -> \#{c.result}" })
    out, err, st = hijack("run", "-e", hooks, "--", program("offsets"))
    assert_equal ["size=5368709123 read=end\n", 0], [out, st.exitstatus]
    # On 32-bit targets these are the *64 calls; on 64-bit ones either name.
    suffix = target_bits == 32 ? "64" : "(64)?"
    assert_true err.match?(/^lseek#{suffix} 5368709120 -> 5368709120$/), err
    assert_true err.match?(/^pread#{suffix} 5368709120 -> 3$/), err
  end
end

assert("observe-everything hooks: curl against a local server behaves as without hijack") do
  native_programs_only("curl and python3")
  in_tmpdir do |dir|
    File.write("#{dir}/page.txt", "served over loopback\n")
    Open3.popen2(python, "#{FIXTURES}/serve.py", dir, "2") do |_stdin, stdout, server|
      port = stdout.gets.to_i
      url = "http://127.0.0.1:#{port}/page.txt"
      bare = Open3.capture3("curl", "-sS", url)
      log = "#{dir}/hijack.log"
      hooked = Open3.capture3({ "HIJACK_LOG" => log }, exe, "run", "-s", "#{FIXTURES}/observe_all.rb", "--",
                              "curl", "-sS", url)
      assert_equal ["served over loopback\n", "", 0], [bare[0], bare[1], bare[2].exitstatus]
      assert_equal [bare[0], bare[1], 0], [hooked[0], hooked[1], hooked[2].exitstatus]
      assert_hooks_ran(log)
      server.value
    end
  end
end

DENY_NOTES = %(Hijack.before(:open, :openat, :open64, :openat64, path: "**/notes.txt") { raise Errno::EACCES })

assert("children are hooked: sh -c, env -i, python subprocess") do
  in_tmpdir do |dir|
    fixture_dir(dir)
    cat_path = cat == "cat" ? "/bin/cat" : cat
    children = [
      ["sh", "-c", "#{cat} notes.txt"],
      [program("noenv"), cat_path, "notes.txt"],
    ]
    children << ["env", "-i", cat_path, "notes.txt"] if target_bits == 64
    if target_bits == 64
      children << [python, "-c", "import subprocess, sys; sys.exit(subprocess.run(['cat', 'notes.txt']).returncode)"]
      children << [python, "-c", "import subprocess, sys; sys.exit(subprocess.run(['cat', 'notes.txt'], env={}).returncode)"]
    end
    children.each do |argv|
      out, err, st = Open3.capture3(exe, "run", "-e", DENY_NOTES, "--", *argv, chdir: dir)
      assert_equal ["", 1], [out, st.exitstatus], argv.inspect
      assert_include err, "notes.txt: Permission denied", argv.inspect
    end
  end
end

assert("--no-follow: a child given an environment of its own is not hooked") do
  in_tmpdir do |dir|
    fixture_dir(dir)
    out, _err, st = Open3.capture3(exe, "run", "--no-follow", "-e", DENY_NOTES, "--",
                                   program("noenv"), (cat == "cat" ? "/bin/cat" : cat), "notes.txt", chdir: dir)
    assert_equal [File.read("#{dir}/notes.txt"), 0], [out, st.exitstatus]
    _out, _err, st = Open3.capture3(exe, "run", "--no-follow", "-e", DENY_NOTES, "--",
                                    "sh", "-c", "#{cat} notes.txt", chdir: dir)
    assert_equal 1, st.exitstatus, "a child that inherits the environment still is"
  end
end

assert("8 python threads doing IO: exact counts, no deadlock") do
  native_programs_only("python3")
  in_tmpdir do |dir|
    data = write("#{dir}/data.bin", "d" * 1000)
    script = write("#{dir}/count.rb", <<~RUBY)
      Hijack.after(:open, :open64, :openat, :openat64, path: #{data.inspect}) { |c| Hijack::Shared.incr(:opens) }
      Hijack.after(:read, path: #{data.inspect}) { |c| Hijack::Shared.incr(:bytes, c.result) if c.result > 0 }
      Hijack.at_exit { Hijack.log "opens=\#{Hijack::Shared[:opens]} bytes=\#{Hijack::Shared[:bytes]}" }
    RUBY
    out, err, st = hijack("run", "-s", script, "--", python, "#{FIXTURES}/threads.py", data)
    assert_equal ["ok\n", 0], [out, st.exitstatus]
    assert_equal "opens=1600 bytes=1600000\n", err
  end
end

assert("a hook sleeping in one thread does not hold up the others") do
  native_programs_only("python3")
  in_tmpdir do |dir|
    slow = write("#{dir}/slow", "s")
    fast = write("#{dir}/fast", "f")
    done = write("#{dir}/done", "")
    # The slow thread's hook waits (up to 60 s) until the fast thread has
    # finished and said so (it opens DONE after recording its finish): with
    # one lock around all hooks, the fast thread's hooks would wait for the
    # slow one instead, and the slow thread would finish first.
    script = %(Hijack.before(:read, path: #{slow.inspect}) { 1200.times { break if Hijack::Shared[:done]; usleep 50_000 } }\n) +
             %(Hijack.after(:read, path: #{fast.inspect}) { |c| Hijack::Shared.incr(:fast) }\n) +
             %(Hijack.after(:openat, path: #{done.inspect}) { Hijack::Shared[:done] = 1 }\n) +
             %(Hijack.at_exit { Hijack.log "fast reads hooked: \#{Hijack::Shared[:fast]}" })
    out, err, st = hijack("run", "-e", script, "--", python, "#{FIXTURES}/slow_and_fast.py", slow, fast, done)
    assert_equal ["fast slow\n", 0], [out, st.exitstatus]
    assert_true err[/fast reads hooked: (\d+)/, 1].to_i >= 50, err
  end
end

assert("before/after hooks with filters on real programs") do
  native_programs_only("rm")
  in_tmpdir do |dir|
    Dir.mkdir("#{dir}/keep")
    write("#{dir}/keep/x", "x")
    write("#{dir}/other", "o")
    ro = %(Hijack.before(:unlink, :unlinkat, path: "#{dir}/keep/**") { raise Errno::EROFS })
    _out, err, st = hijack("run", "-e", ro, "--", "rm", "#{dir}/keep/x", "#{dir}/other")
    assert_equal 1, st.exitstatus
    assert_include err, "Read-only file system"
    assert_true File.exist?("#{dir}/keep/x")
    assert_false File.exist?("#{dir}/other")
  end
end

assert("call.data: a hook rewrites what is written and what is read") do
  in_tmpdir do |dir|
    # cat writes with write(2) (stdio's own writes go through glibc-internal
    # calls that no preload library sees).
    hello = write("#{dir}/hello", "hello\n")
    out, _err, st = hijack("run", "-e", %(Hijack.before(:write, fd: 1) { |c| c.data = c.data.upcase }),
                           "--", cat, hello)
    assert_equal ["HELLO\n", 0], [out, st.exitstatus]
    data = write("#{dir}/data", "banana\n")
    tr = %(Hijack.after(:read, path: #{data.inspect}) { |c| c.data = c.data.tr("a", "o") if c.result > 0 })
    out, _err, st = hijack("run", "-e", tr, "--", cat, data)
    assert_equal ["bonono\n", 0], [out, st.exitstatus]
  end
end

assert("HIJACK_ON_ERROR=abort makes an exception in a hook fatal, with its message") do
  _out, err, st = hijack("run", "-e", %(Hijack.on(:close) { raise "broken" }), "--", cat, "/etc/hostname",
                         env: { "HIJACK_ON_ERROR" => "abort" })
  assert_equal Signal.list["ABRT"], st.termsig
  assert_match "hijack: -e:1*RuntimeError: broken*HIJACK_ON_ERROR=abort*", err
end

# The preload library's mruby data (its ireps, symbol names, parser tables)
# is relocated by hijack at a process's first VM, not by the loader: a
# process that opens none has only the loader's relocated pages dirty in the
# library's read-only-after-relocation segment, one that opens a VM has
# those and hijack's (tasks/lazy_relocations.rb, src/platform/relocs.rs).
assert("mruby's data is relocated at a process's first VM, only there") do
  skip "i686: no 32-bit shell to read its own smaps" if target_bits == 32
  require_relative "../tasks/lazy_relocations"
  lazy = Hijack::LazyRelocations
  elf, eager, = lazy.split(File.binread(library))
  table = elf.symbols.find { |s| s.name == lazy::TABLE }
  count, relro_start, relro_end = elf.words(elf.file_offset(table.value), 3)
  deferred = lazy.decode(elf.words(elf.file_offset(table.value) + 3 * elf.word, count), elf.word)
  pages = ->(list) { list.map { |a| a >> 12 }.uniq }
  assert_operator pages.(deferred).size, :>=, 20
  # Private_Dirty of the library's RELRO mapping in the shell's smaps.
  dirty_kb = lambda do |out|
    maps = out.split(/^(?=\h+-\h+ )/).select { |m| m.lines.first.include?("libhijack.so") }
    base = maps.map { |m| m.lines.first.split }.find { |f| f[2].to_i(16).zero? }[0].split("-")[0].to_i(16)
    relro = maps.find { |m| m.lines.first.split[0].split("-")[0].to_i(16) == (base + relro_start) & ~0xfff }
    assert_not_nil relro, "the library's RELRO mapping"
    relro[/^Private_Dirty:\s+(\d+) kB/, 1].to_i
  end
  script = "cat /proc/$$/smaps"
  bare_out, st = Open3.capture2({"LD_PRELOAD" => library}, "sh", "-c", script)
  assert_true st.success?
  vm_out, _err, st = hijack("run", "-e", "Hijack.before(:unlinkat) { }", "--", "sh", "-c", script)
  assert_true st.success?
  without_vm = dirty_kb.(bare_out)
  with_vm = dirty_kb.(vm_out)
  in_relro = ->(list) { pages.(list.select { |a| a >= relro_start && a < relro_end }) }
  assert_operator without_vm, :<=, in_relro.(eager).size * 4
  assert_operator with_vm, :>=, (in_relro.(eager) | in_relro.(deferred)).size * 4
end

# A thread that exits leaves its VM for the next new thread's first hooked
# call: threads made one after another open one VM between them, every call
# counted; what is a thread's own in a VM (its fault rules' draws) starts
# over for each thread.
assert("threads one after another share the VM the last one left; each counts, each draws from the seed") do
  counting = <<~'RUBY'
    Hijack.after(:close) do |c|
      if Hijack.tid != Hijack.pid
        (Hijack::Shared.incr(:vms); $mine = true) unless $mine
        Hijack::Shared.incr(:n)
      end
    end
    Hijack.at_exit { $stderr.puts "vms=#{Hijack::Shared[:vms]} n=#{Hijack::Shared[:n]}" }
  RUBY
  out, err, st = hijack("run", "-e", counting, "--", program("threads_in_turn"), "20", "10")
  assert_true st.success?, err
  assert_equal 20, out.lines.size
  assert_include err, "vms=1 n=200"

  faults = "Hijack.fail :close, with: :EIO, probability: 0.5"
  out, err, st = hijack("run", "-e", faults, "--", program("threads_in_turn"), "6", "40", env: { "HIJACK_SEED" => "7" })
  assert_true st.success?, err
  lines = out.lines.map(&:chomp)
  assert_equal 6, lines.size
  assert_equal [lines.first], lines.uniq
  assert_include lines.first, "x"
  assert_include lines.first, "."
end

# Around fork hijack takes its locks unless the forking thread is the
# process's only one: with two threads busy in hooks (allocating), every
# child of the third goes on, none inherits a lock held.
assert("fork while two threads are busy in hooks: every child runs its own hooks and exits") do
  require "timeout"
  hook = "Hijack.after(:close) { |c| Hijack::Shared.incr(:n); [c.fd.to_s * 8] }"
  out, err, st = Timeout.timeout(120) { hijack("run", "-e", hook, "--", program("fork_busy"), "300", "20") }
  assert_true st.success?, err
  assert_equal "300\n", out
end
