require_relative "helper"
include HijackBintest

# A program under hijack never finds hijack in its way: no descriptor of
# hijack's it can collide with, nothing of hijack's in its files, no noise.
# Each run is compared with the same run bare.

# The actions of test/programs/fdguard.c that act on numbers the program
# never opened; 1008.. are where hijack's descriptors go under a limit of
# 1024 (the log, the trace file, the fault log, the audit log, in the order
# they are first used).
FD_ACTIONS = %w[closeall dup2:1008 close:1009 dupfd:1008 getfd:1010 dup3:1010 close_range sys_close_range
                closefrom nofile:64 dup2:49 close:48 list].freeze

# Every log of hijack's in use at once: its log, a trace file, the fault
# log and the audit log (written by hooks), and a fault rule that never fires.
FD_HOOKS = <<~RUBY
  Hijack.after(:write) { |c| Hijack.log "wrote \#{c.result} to \#{c.fd}" }
  Hijack.after(:close) { |c| Hijack.__audit_log "closed \#{c.fd}" }
  Hijack.fail(:write, with: :EIO, path: "/nonexistent/**")
  Hijack.after(:close, fd: 1008..) { |c| Hijack.__fault_log "high close \#{c.fd}" }
RUBY

def fdguard_run(dir, hooked, actions, logs: true)
  env = {}
  argv = [program("fdguard"), *actions]
  if hooked
    env = { "HIJACK_LOG" => "#{dir}/../hijack.log", "HIJACK_FAULT_LOG" => "#{dir}/../faults.log",
            "HIJACK_AUDIT" => "#{dir}/../audit.log" } if logs
    argv = [exe, "run", "--trace", "close", "-o", "#{dir}/../trace.txt", "-e", FD_HOOKS, "--", *argv]
  end
  out, err, st = Open3.capture3(env, *argv, chdir: dir, rlimit_nofile: 1024)
  [out, err, st.exitstatus]
end

# The data files a run left: name => bytes.
def data_files(dir)
  Dir.children(dir).sort.to_h { |f| [f, File.binread(File.join(dir, f))] }
end

assert("descriptors: a program closing, dup2-ing, F_DUPFD-ing onto hijack's numbers sees bare behaviour, and every data file is as bare") do
  in_tmpdir do |tmp|
    %w[bare hooked].each { |d| Dir.mkdir("#{tmp}/#{d}") }
    actions = FD_ACTIONS - ["list"]
    bare = fdguard_run("#{tmp}/bare", false, actions)
    hooked = fdguard_run("#{tmp}/hooked", true, actions)
    assert_equal bare, hooked
    assert_include bare[0], "close:1009 = -1 Bad file descriptor"
    assert_include bare[0], "dupfd:1008 = 1008"
    assert_equal data_files("#{tmp}/bare"), data_files("#{tmp}/hooked")
    assert_true data_files("#{tmp}/bare").size > 30
    # hijack kept logging to the right places throughout.
    # (one write per data file)
    assert_equal data_files("#{tmp}/bare").size, File.read("#{tmp}/hijack.log").scan(/^wrote /).size
    assert_true File.read("#{tmp}/audit.log").lines.all? { |l| l.start_with?("closed ") }
    assert_true File.read("#{tmp}/audit.log").lines.size > 1000
    assert_true File.read("#{tmp}/faults.log").lines.all? { |l| l.start_with?("high close ") }
    assert_true File.read("#{tmp}/faults.log").lines.size > 10
    assert_true File.read("#{tmp}/trace.txt").lines.size > 1000
    assert_true File.read("#{tmp}/trace.txt").lines.all? { |l| l.match?(/\A(\[pid \d+\] )?close\(\d+\) +=/) }
  end
end

assert("descriptors: closing standard error and reusing 2 keeps hijack's log on the original standard error") do
  in_tmpdir do |tmp|
    %w[bare hooked].each { |d| Dir.mkdir("#{tmp}/#{d}") }
    hooks = 'Hijack.after(:write) { |c| Hijack.log "wrote #{c.result} to #{c.fd}" }'
    bare = Open3.capture3(program("fdguard"), "stderr", "closeall", chdir: "#{tmp}/bare")
    hooked = Open3.capture3(exe, "run", "-e", hooks, "--", program("fdguard"), "stderr", "closeall", chdir: "#{tmp}/hooked")
    assert_equal [bare[0], bare[2].exitstatus], [hooked[0], hooked[2].exitstatus]
    assert_include bare[0], "data file on = 2"
    assert_equal data_files("#{tmp}/bare"), data_files("#{tmp}/hooked")
    assert_equal 22, hooked[1].scan(/^wrote 5 to/).size
    assert_equal "", bare[1]
  end
end

assert("descriptors: none of hijack's is open until used; a trace file is one, high and close-on-exec") do
  in_tmpdir do |dir|
    bare = Open3.capture3(program("fdguard"), "list", chdir: dir)
    quiet = Open3.capture3(exe, "run", "-e", "Hijack.after(:write) { |c| Hijack::Shared.incr(:n) }", "--",
                           program("fdguard"), "list", "closeall", "list", chdir: dir, rlimit_nofile: 1024)
    # (the descriptors the test's own parent left open are listed first)
    inherited = bare[0]
    assert_equal inherited, quiet[0][0, inherited.size]
    assert_equal "closeall = 0\n", quiet[0][inherited.size..]
    traced = Open3.capture3(exe, "run", "--trace", "write", "-o", "#{dir}/t.txt", "--",
                            program("fdguard"), "list", "closeall", "list", chdir: dir, rlimit_nofile: 1024)
    assert_equal inherited + "closeall = 0\nopen 1008 cloexec\n", traced[0]
    assert_equal 21, File.read("#{dir}/t.txt").lines.size
  end
end

assert("descriptors: a Python child given pass_fds sees the same descriptors as bare") do
  native_programs_only("python3")
  in_tmpdir do |dir|
    File.write("#{dir}/parent-only", "x")
    code = <<~PY
      import os, subprocess, sys
      open("parent-only").read()
      r, w = os.pipe()
      child = "import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))"
      subprocess.run([sys.executable, "-c", child], pass_fds=(r,), check=True)
    PY
    hooks = 'Hijack.after(:openat, :open, :open64, path: "**/parent-only") { |c| Hijack.log "parent opened #{c.path}" }'
    bare = Open3.capture3(python, "-c", code, chdir: dir)
    hooked = Open3.capture3({ "HIJACK_LOG" => "#{dir}/log" }, exe, "run", "-e", hooks, "--", python, "-c", code, chdir: dir)
    assert_equal [bare[0], bare[2].exitstatus], [hooked[0], hooked[2].exitstatus]
    assert_include File.read("#{dir}/log"), "parent opened"
  end
end
