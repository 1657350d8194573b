require_relative "helper"
include HijackBintest

# System calls by the names people know (issue 16): a hook, trace or fault
# named after a system call (openat, newfstatat) or the manual's name for it
# (open, stat) runs on every C library function that makes that call.

assert("the example of `hijack help run`: a hook on openat denies cat's open()") do
  in_tmpdir do |dir|
    # (exactly as the help prints it, on a file of ours where /etc/hostname is missing)
    file = File.exist?("/etc/hostname") ? "/etc/hostname" : write("#{dir}/hostname", "h\n")
    out, err, st = hijack("run", "-e", %(Hijack.on(:openat) { |c| raise Errno::EACCES if c.path == "#{file}"; c.proceed }), "--", cat, file)
    assert_equal ["", 1], [out, st.exitstatus]
    assert_include err, "Permission denied"
  end
end

assert("--trace=openat,read,close: cat's open, reads and close, as strace shows them") do
  in_tmpdir do |dir|
    f = write("#{dir}/f", "hello\n")
    # (a pipe after cat: to a file, coreutils' cat copies with copy_file_range)
    _out, _err, st = hijack("run", "--trace=openat,read,close", "-o", "#{dir}/t.txt", "--", "sh", "-c", "#{cat} #{f} | #{cat} >/dev/null")
    assert_equal 0, st.exitstatus
    lines = File.readlines("#{dir}/t.txt").map { |l| l.sub(/^\[pid\s+\d+\] /, "").sub(/\s+= /, " = ").chomp }
    assert_include lines, %(openat(AT_FDCWD, "#{f}", O_RDONLY) = 3)
    assert_true lines.any? { |l| l.start_with?('read(3, "hello\\n", ') && l.end_with?(" = 6") }, lines.join("\n")
    # (the test programs' cat leaves its descriptor to exit)
    assert_include lines, "close(3) = 0" if cat == "cat"
  end
end

assert("ctl on a running Python loop: Hijack.fail(:openat, path:) reaches Python's open()") do
  native_programs_only("python3")
  in_tmpdir do |dir|
    data = write("#{dir}/data", "d")
    with_controlled_reader(data, dir) do |pid, out_r|
      _out, err, st = hijack("ctl", pid.to_s, "-e", %(Hijack.fail(:openat, with: :EIO, path: "#{data}")))
      assert_equal 0, st.exitstatus, err
      assert_true wait_until { out_r.gets.to_s.chomp == "error 5" }, "the fault arrives"
    end
  end
end

assert("a hook on :stat sees Python's os.stat, coreutils' stat and ls -l") do
  in_tmpdir do |dir|
    f = write("#{dir}/target", "x")
    hooks = %(Hijack.before(:stat, path: "#{f}") { |c| Hijack.log "stat hook \#{c.name} \#{c.function}" })
    runs = [["stat", f], ["ls", "-l", f]]
    runs << [python, "-c", "import os, sys; os.stat(sys.argv[1])", f] if target_bits == 64
    runs.each do |cmd|
      next if target_bits == 32 # (the system's programs are 64-bit)
      _out, err, st = hijack("run", "-e", hooks, "--", *cmd)
      assert_equal 0, st.exitstatus, err
      assert_match "*stat hook * *", err, cmd.first
    end
  end
end

assert("a call seen through two names runs a hook once; NAME() hooks exactly one function") do
  in_tmpdir do |dir|
    f = write("#{dir}/f", "x")
    hooks = %(Hijack.before(:open, :openat, :open64, path: "#{f}") { |c| Hijack.log "hooked \#{c.function}" }
              Hijack.before("fopen()", path: "#{f}") { |c| Hijack.log "exactly \#{c.function}" })
    _out, err, st = hijack("run", "-e", hooks, "--", cat, f)
    assert_equal 0, st.exitstatus, err
    assert_equal 1, err.scan(/^hooked /).size, err
    assert_equal 0, err.scan(/^exactly /).size, err
  end
end

assert("old scripts: call.name is the system call's name now, call.function the C function") do
  in_tmpdir do |dir|
    f = write("#{dir}/f", "x")
    hooks = %(Hijack.after(:open, path: "#{f}") { |c| Hijack.log "\#{c.name} \#{c.function} \#{c.dirfd}" })
    _out, err, _st = hijack("run", "-e", hooks, "--", cat, f)
    assert_include err, "openat open"
    assert_include err, " -100"
  end
end

assert("a name that means no call is refused, saying why; one no function makes is said to be seen through syscall() only") do
  _out, err, st = hijack("run", "-e", "Hijack.on(:io_uring_enter) { |c| c.proceed }", "--", cat, "/dev/null")
  assert_equal 0, st.exitstatus
  # (--all-syscalls sees it however it is made: nothing to say)
  assert_equal all_syscalls? ? 0 : 1, err.scan("io_uring_enter is made by no C library function of hijack's table: this hook sees it made through syscall() only").size, err
  _out, err, st = hijack("run", "--trace", "nosuchcall", "--", "true")
  assert_equal 2, st.exitstatus
  assert_include err, "unknown call nosuchcall"
end

assert("a process that ends in _exit (dash) runs Hijack.at_exit, reports its --summary, and traces exit_group") do
  native_programs_only("dash")
  in_tmpdir do |dir|
    out, err, st = hijack("run", "--summary", "-e", %(Hijack.at_exit { Hijack.log "at_exit \#{Hijack.__argv0}" }), "--", "dash", "-c", "echo hi")
    assert_equal ["hi\n", 0], [out, st.exitstatus]
    assert_include err, "at_exit dash"
    assert_true err.lines.any? { |l| l.split.last == "write" && l.split[3] == "1" }, err
    assert_true err.lines.any? { |l| l.split.last == "exit_group" }, err
    hijack("run", "--trace", "exit_group", "-o", "#{dir}/t", "--", "dash", "-c", "exit 3")
    line = File.read("#{dir}/t")
    assert_true line.match?(/\A\[pid \d+\] exit_group\(3\) +\= \?\n\z/), line
  end
end

assert("clone() and fork() are traced as the clone system call strace shows, in the same run") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "hello\n")
    ["", "vm"].each do |mode|
      _out, _err, st = Open3.capture3("strace", "-f", "-e", "trace=clone", "-o", "#{dir}/strace",
                                      exe, "run", "--trace", "clone", "-o", "#{dir}/trace", "--", program("clones"), data, *[mode].reject(&:empty?))
      assert_equal 0, st.exitstatus
      # (a vfork-like child runs while its clone is unfinished: the line is
      # joined with its resumption)
      pending = {}
      theirs = File.readlines("#{dir}/strace").filter_map do |l|
        pid, line = l.chomp.split(/ +/, 2)
        if line.end_with?(" <unfinished ...>")
          pending[pid] = line.delete_suffix(" <unfinished ...>")
          nil
        elsif (rest = line[/\A<\.\.\. clone resumed>(.*)/, 1])
          "#{pending.delete(pid)}#{rest}"
        else
          line
        end
      end
      theirs = theirs.grep(/\Aclone\(child_stack=/).map { |l| "#{l.sub(/ +=/, " =")}\n" }.last(2)
      ours = File.readlines("#{dir}/trace").map { |l| l.sub(/\A\[pid \d+\] /, "").sub(/ +=/, " =") }
      assert_equal theirs, ours, mode
      assert_match "clone(child_stack=0x*, flags=#{mode.empty? ? '' : 'CLONE_VM|CLONE_VFORK|'}SIGCHLD) = *", ours[0]
      assert_match "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x*) = *", ours[1]
    end
  end
end

assert("a child that clone() copies is hooked from its first call, and runs Hijack.at_exit when its function returns") do
  in_tmpdir do |dir|
    data = write("#{dir}/data", "hello\n")
    code = %(Hijack.after(:read, path: #{data.inspect}) { |c| Hijack.log "read \#{c.result} in \#{Hijack.pid}" }\n) +
           %(Hijack.at_exit { Hijack.log "at_exit \#{Hijack.pid}" })
    out, err, st = hijack("run", "-e", code, "--", program("clones"), data)
    assert_equal ["child read 6\nclone child: 7\nfork child: 3\n", 0], [out, st.exitstatus]
    reader = err[/read 6 in (\d+)/, 1]
    ends = err.scan(/at_exit (\d+)/).flatten
    assert_equal 3, ends.size, err
    assert_include ends, reader, "the clone child ran its own at_exit"
    hooked = hijack("run", "-e", %(Hijack.fail(:read, with: :EIO, path: #{data.inspect})), "--", program("clones"), data)
    assert_equal "child read -1\n", hooked[0].lines.first
    # a child sharing the memory shares hijack's state too: it is not made a copy
    out, _err, st = hijack("run", "-e", code, "--", program("clones"), data, "vm")
    assert_equal ["child read 6\nclone child: 7\nfork child: 3\n", 0], [out, st.exitstatus]
  end
end

assert("gethostbyname fails as the resolver reports it: h_errno NETDB_INTERNAL and errno, traced with the resolver's code") do
  src = File.join(ENV.fetch("BUILD_DIR"), "test-programs", "hostbyname.c")
  FileUtils.mkdir_p(File.dirname(src))
  File.write(src, <<~C)
    #include <errno.h>
    #include <netdb.h>
    #include <stdio.h>
    int main(int argc, char **argv) {
      struct hostent *h = gethostbyname(argv[1]);
      printf("%s h_errno=%d errno=%d\\n", h ? "found" : "NULL", h ? 0 : h_errno, h ? 0 : errno);
      return 0;
    }
  C
  prog = program("hostbyname", src: src)
  out, _err, st = hijack("run", "--fail", "gethostbyname:EIO", "--", prog, "localhost")
  assert_equal ["NULL h_errno=-1 errno=#{Errno::EIO::Errno}\n", 0], [out, st.exitstatus]
  in_tmpdir do |dir|
    out, _err, _st = hijack("run", "--trace", "gethostbyname", "-o", "#{dir}/t", "--", prog, "nonexistent.invalid")
    assert_equal "NULL h_errno=1 errno=0\n", out
    assert_match "*gethostbyname(\"nonexistent.invalid\")* = NULL HOST_NOT_FOUND (Unknown host)\n", File.read("#{dir}/t")
  end
end
