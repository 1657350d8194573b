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
    # (--all-syscalls also sees stdio's writes of the program's output, on 1)
    wrote = File.read("#{tmp}/hijack.log").scan(/^wrote \S+ to (\d+)$/).flatten.reject { |fd| all_syscalls? && fd == "1" }
    assert_equal data_files("#{tmp}/bare").size, wrote.size
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
    # (--all-syscalls also sees stdio's writes of the listing, on 1)
    assert_equal 21, File.read("#{dir}/t.txt").lines.reject { |l| all_syscalls? && l.match?(/\A\[pid \d+\] write\(1, /) }.size
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

assert("exec following: system() and popen() with 8 threads reading the environment: every status right, the environment untouched, children hooked") do
  bare = Open3.capture3(program("sysenv"), "50")
  out, err, st = hijack("run", "-e", "Hijack.after(:unlink) { }", "--", program("sysenv"), "500")
  assert_equal [0, ""], [st.exitstatus, without_loader_noise(err)]
  assert_equal "bad statuses: 0\nown environment has LD_PRELOAD: no\nchild LD_PRELOAD set: yes\n", out
  assert_equal "bad statuses: 0\nown environment has LD_PRELOAD: no\nchild LD_PRELOAD set: \n", bare[0]
end

assert("exec following: execv and execlp of a program whose environment lost hijack's variables: the new program is hooked") do
  native_programs_only("python3 and sh")
  code = "import os; del os.environ['LD_PRELOAD']; os.execvp('sh', ['sh', '-c', 'echo ${LD_PRELOAD:+hooked}'])"
  out, _err, st = hijack("run", "-e", "Hijack.after(:unlink) { }", "--", python, "-c", code)
  assert_equal ["hooked\n", 0], [out, st.exitstatus]
end

assert("no noise: a 30-process sh tree under a fault flag that never fires writes the same standard error as bare") do
  native_programs_only("sh")
  script = "for i in $(seq 30); do /bin/true; sh -c 'exit 0'; done; echo done >&2"
  bare = Open3.capture3("sh", "-c", script)
  quiet = hijack("run", "--quiet", "--fail", "rmdir:EIO", "--", "sh", "-c", script)
  assert_equal [bare[1], 0], [quiet[1], quiet[2].exitstatus]
  noted = hijack("run", "--fail", "rmdir:EIO", "--", "sh", "-c", script)
  lines = noted[1].lines
  assert_equal 2, lines.size
  assert_match "hijack: faults seeded with * (rerun with --seed *)\n", lines[0]
  assert_equal bare[1], lines[1]
  given = hijack("run", "--fail", "rmdir:EIO", "--", "sh", "-c", script, env: { "HIJACK_SEED" => "5" })
  assert_equal bare[1], given[1], "a seed given is not reported"
end

assert("user data never travels in the environment: a 10 MiB --fake and a 200 KB -s script through three levels of sh") do
  native_programs_only("sh and cat")
  in_tmpdir do |dir|
    content = Random.new(7).bytes(10 * 1024 * 1024)
    File.binwrite("#{dir}/content", content)
    script = "x = 0\n" + (0...6000).map { |i| "x += #{i} # a line of padding to make the script large\n" }.join +
             "Hijack.log \"script loaded: \#{x}\"\n"
    File.write("#{dir}/big.rb", script)
    assert_true script.bytesize > 200_000
    inner = %(sh -c 'sh -c "sh -c \\"cat /etc/hijack-fake-big; env\\""')
    out, err, st = Open3.capture3(exe, "run", "--fake", "/etc/hijack-fake-big=#{dir}/content", "-s", "#{dir}/big.rb", "--",
                                  "sh", "-c", inner, binmode: true)
    assert_equal 0, st.exitstatus
    assert_equal content, out.byteslice(0, content.bytesize)
    env = out.byteslice(content.bytesize..).lines.grep(/\A(HIJACK_|LD_PRELOAD)/)
    assert_true env.all? { |l| l.bytesize < 4200 }, "hijack's variables stay small: #{env.map(&:bytesize)}"
    # (four shells, cat and env; a shell may exec its last command)
    assert_true err.scan("script loaded: #{(0...6000).sum}").size >= 5, "every process ran the script: #{err[0, 300]}"
    # -e code too large for an environment variable goes in a file.
    # (every one of the processes makes a call hooked here: each runs the
    # code, at that call)
    code = "Hijack.before(:execve, :write) { }; Hijack.log \"eval loaded\" # #{'x' * 100_000}"
    out, err, st = Open3.capture3(exe, "run", "-e", code, "--", "sh", "-c", 'sh -c "sh -c \"env\""')
    assert_equal 0, st.exitstatus
    assert_true err.scan("eval loaded").size >= 3, err
    assert_true out.lines.grep(/\AHIJACK_/).all? { |l| l.bytesize < 4200 }
    assert_include out, "HIJACK_EVAL_FILE="
  end
end

assert("a statically linked command: one line on hijack's log says it runs unhooked; --strict refuses it (126)") do
  in_tmpdir do |dir|
    src = write("#{dir}/static.c", "#include <stdio.h>\nint main(void) { puts(\"static ran\"); return 3; }\n")
    flags = target_bits == 32 ? ["-m32"] : []
    skip "no static C library here" unless system("cc", "-static", *flags, "-o", "#{dir}/static", src, err: File::NULL)
    out, err, st = hijack("run", "-e", "Hijack.after(:write) { }", "--", "#{dir}/static")
    assert_equal ["static ran\n", 3], [out, st.exitstatus]
    assert_equal "hijack: #{dir}/static is statically linked: no preload library reaches it, so no hook runs in it; " \
                 "it runs unhooked\n", err
    out, err, st = hijack("run", "--strict", "-e", "Hijack.after(:write) { }", "--", "#{dir}/static")
    assert_equal ["", 126], [out, st.exitstatus]
    assert_include err, "statically linked"
    assert_include err, "--strict"
    # a dynamically linked program of this target: not a word
    out, err, st = hijack("run", "--strict", "-e", "Hijack.after(:write) { }", "--", program("hcat"), src)
    assert_equal [File.read(src), "", 0], [out, err, st.exitstatus]
  end
end
