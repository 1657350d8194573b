require_relative "helper"
include HijackBintest

# Fake files and policy (issue 8): Hijack::FS and Hijack::Policy, through
# the Ruby API and run's flags.

def both_ways(ruby, flags)
  [["-e", ruby], flags]
end

assert("FS.fake / --fake: a file that exists for the whole process tree") do
  in_tmpdir do |dir|
    content = write("#{dir}/motd", "hello from hijack\n")
    target = "#{dir}/nowhere/motd"
    both_ways(%(Hijack::FS.fake #{target.inspect}, "hello from hijack\\n"), ["--fake", "#{target}=#{content}"]).each do |how|
      # (the shell's own test -e is only hooked where the shell has this target's bits)
      check = target_bits == 64 ? "; test -e #{target} && echo exists" : ""
      out, err, st = hijack("run", *how, "--", "sh", "-c", "#{cat} #{target}#{check}")
      expected = target_bits == 64 ? "hello from hijack\nexists\n" : "hello from hijack\n"
      assert_equal [expected, 0], [out, st.exitstatus], err
      out, _err, _st = hijack("run", *how, "--", program("noenv"), (cat == "cat" ? "/bin/cat" : cat), target)
      assert_equal "hello from hijack\n", out, "a child given an empty environment sees it too"
      next if target_bits == 32
      out, _err, _st = hijack("run", *how, "--", "stat", "-c", "%s %A", target)
      assert_equal "18 -rw-r--r--\n", out
      out, _err, _st = hijack("run", *how, "--", python, "-c", "print(open(#{target.inspect}).read(), end='')")
      assert_equal "hello from hijack\n", out
    end
    assert_false File.exist?(target)
  end
end

assert("FS.readonly / --readonly: writes fail with EROFS, reads work") do
  native_programs_only("sh, rm, mkdir")
  in_tmpdir do |dir|
    Dir.mkdir("#{dir}/srv")
    keep = write("#{dir}/srv/keep", "kept\n")
    both_ways(%(Hijack::FS.readonly "#{dir}/srv/**"), ["--readonly", "#{dir}/srv/**"]).each do |how|
      out, err, st = hijack("run", *how, "--", "sh", "-c", "#{cat} #{keep}; echo x > #{dir}/srv/new; rm #{keep}; mkdir #{dir}/srv/d")
      assert_equal "kept\n", out
      assert_equal 3, err.scan("Read-only file system").size, err
      assert_not_equal 0, st.exitstatus
      assert_true File.exist?(keep)
      assert_false File.exist?("#{dir}/srv/new")
    end
  end
end

assert("FS.hide / --hide: ENOENT for every path call") do
  native_programs_only("sh's test")
  in_tmpdir do |dir|
    secret = write("#{dir}/id_rsa", "key\n")
    both_ways(%(Hijack::FS.hide "#{dir}/id_*"), ["--hide", "#{dir}/id_*"]).each do |how|
      out, err, _st = hijack("run", *how, "--", "sh", "-c", "#{cat} #{secret}; test -e #{secret} || echo gone")
      assert_equal "gone\n", out
      assert_include err, "No such file or directory"
      next if target_bits == 32
      out, _err, _st = hijack("run", *how, "--", python, "-c", "import os; print(os.path.exists(#{secret.inspect}))")
      assert_equal "False\n", out
    end
    # every kind of path call of the table, on the hidden file (Python makes them through the C library)
    ops = {
      "open" => "open(p).read()", "stat" => "os.stat(p)", "lstat" => "os.lstat(p)",
      "access" => "(_ for _ in ()).throw(FileNotFoundError) if not os.access(p, os.F_OK) else None",
      "readlink" => "os.readlink(p)", "rename" => "os.rename(p, p + '.moved')", "unlink" => "os.unlink(p)",
      "chmod" => "os.chmod(p, 0o600)", "chown" => "os.chown(p, -1, -1)", "truncate" => "os.truncate(p, 0)",
      "link" => "os.link(p, p + '.link')", "mkdir" => "os.mkdir(p + 'x')", "rmdir" => "os.rmdir(p)",
      "exec" => "os.execv(p, [p])",
    }
    native_programs_only("python3")
    code = "import os, sys\np = sys.argv[1]\n" + ops.map do |name, op|
      "try:\n  #{op}\n  print('#{name}: reached')\nexcept FileNotFoundError:\n  print('#{name}: ENOENT')\nexcept OSError as e:\n  print('#{name}:', e.strerror)\n"
    end.join
    out, _err, _st = hijack("run", "--hide", "#{dir}/id_*", "--", python, "-c", code, secret)
    assert_equal ops.keys.map { |n| "#{n}: ENOENT\n" }.join, out
    assert_equal "key\n", File.read(secret), "nothing reached the hidden file"
  end
end

assert("FS.hide and FS.fake in directory listings: ls and Python's os.listdir") do
  in_tmpdir do |dir|
    %w[a secret].each { |f| write("#{dir}/#{f}", f) }
    hooks = %(Hijack::FS.hide("#{dir}/secret"); Hijack::FS.fake("#{dir}/ghost", "boo\\n"))
    ls = target_bits == 64 ? ["ls", "-1", dir] : nil
    if ls
      out, err, st = hijack("run", "-e", hooks, "--", *ls)
      assert_equal ["a\nghost\n", 0], [out, st.exitstatus], err
      out, = hijack("run", "-e", hooks, "--", "ls", "-l", "#{dir}/ghost")
      assert_include out, " 4 "
      out, err, st = hijack("run", "-e", hooks, "--", python, "-c", "import os, sys; print(sorted(os.listdir(sys.argv[1])))", dir)
      assert_equal ["['a', 'ghost']\n", 0], [out, st.exitstatus], err
    end
    # bare, the directory is as it is
    assert_equal %w[a secret], Dir.children(dir).sort
  end
end

assert("FS.redirect / --redirect: exact paths and DIR/** => DIR/**, relative paths too") do
  in_tmpdir do |dir|
    Dir.mkdir("#{dir}/data")
    Dir.mkdir("#{dir}/fixture")
    write("#{dir}/data/a", "real\n")
    write("#{dir}/fixture/a", "fixture\n")
    write("#{dir}/hosts", "real hosts\n")
    write("#{dir}/test-hosts", "test hosts\n")
    ruby = %(Hijack::FS.redirect "#{dir}/hosts" => "#{dir}/test-hosts", "#{dir}/data/**" => "#{dir}/fixture/**")
    [["-e", ruby], ["--redirect", "#{dir}/hosts=#{dir}/test-hosts", "--redirect", "#{dir}/data/**=#{dir}/fixture/**"]].each do |how|
      out, err, st = hijack("run", *how, "--", "sh", "-c", "#{cat} #{dir}/hosts #{dir}/data/a; cd #{dir} && #{cat} data/a")
      assert_equal ["test hosts\nfixture\nfixture\n", 0], [out, st.exitstatus], err
    end
  end
end

assert("--fake and --redirect values are checked before the command starts") do
  assert_usage_error("--fake /etc/motd: expected PATH=CONTENT_FILE", "run", "--fake", "/etc/motd", "--", "true")
  assert_usage_error("redirect takes exact paths or DIR/** => DIR/**", "run", "--redirect", "/a/*.txt=/b/*.txt", "--", "true")
end

POLICY = <<~RUBY
  Hijack::Policy.enforce do
    allow_read "/**"
    allow_write "/tmp/**", "/dev/null", "/dev/tty"
    allow_exec "/usr/**", "/bin/**", "/lib/**"
    allow_connect "127.0.0.1:*"
    deny_all_else
  end
RUBY

assert("Policy: git clone of a local repository into an allowed tree allowed, elsewhere denied, audited line by line") do
  native_programs_only("git")
  in_tmpdir do |dir|
    # (all inside the test's directory: the real $HOME is never written)
    home = "#{dir}/denied"
    begin
      Dir.mkdir(home)
      env = { "HOME" => dir, "GIT_CONFIG_NOSYSTEM" => "1", "GIT_AUTHOR_NAME" => "A", "GIT_AUTHOR_EMAIL" => "a@x",
              "GIT_COMMITTER_NAME" => "A", "GIT_COMMITTER_EMAIL" => "a@x" }
      system(env, "sh", "-c", "git init -q -b main #{dir}/origin && cd #{dir}/origin && echo x > f && git add f && git commit -qm one") or raise "git setup"
      real = File.realpath(dir)
      policy = write("#{dir}/policy.rb", POLICY.sub('allow_write "/tmp/**"',
                                                  "allow_write #{"#{real}/origin/**".inspect}, #{"#{real}/clone/**".inspect}"))
      audit = "#{dir}/audit.log"
      _out, err, st = Open3.capture3(env, exe, "run", "--policy", policy, "--audit", audit, "--",
                                     "git", "clone", "-q", "#{dir}/origin", "#{dir}/clone")
      assert_equal 0, st.exitstatus, err
      assert_equal "x\n", File.read("#{dir}/clone/f")
      assert_false File.exist?(audit) && !File.read(audit).empty?, "nothing to audit"
      _out, err, st = Open3.capture3(env, exe, "run", "--policy", policy, "--audit", audit, "--",
                                     "git", "clone", "-q", "#{dir}/origin", "#{home}/clone")
      assert_not_equal 0, st.exitstatus
      assert_include err, "Permission denied"
      assert_false File.exist?("#{home}/clone/f")
      lines = File.readlines(audit).map { |l| JSON.parse(l) }
      assert_true lines.size >= 1
      lines.each do |l|
        assert_equal %w[action argv0 call path pid rule time], l.keys.sort
        assert_equal "denied", l["action"]
        assert_true l["path"].start_with?(home), l["path"]
        assert_equal "deny_all_else (write)", l["rule"]
        assert_include l["argv0"], "git"
      end
    ensure
      FileUtils.rm_rf(home)
    end
  end
end

assert("Policy.audit logs violations but allows them; exec is EPERM under enforce") do
  native_programs_only("sh")
  in_tmpdir do |dir|
    Dir.mkdir("#{dir}/allowed")
    audit = "#{dir}/audit.log"
    outside = "#{dir}/outside"
    policy = POLICY.sub('allow_write "/tmp/**"', "allow_write #{"#{File.realpath(dir)}/allowed/**".inspect}")
    _out, _err, st = hijack("run", "-e", policy.sub("enforce", "audit"), "--audit", audit, "--", "sh", "-c", "echo y > #{outside}")
    assert_equal 0, st.exitstatus
    assert_true File.exist?(outside)
    assert_equal "audited", JSON.parse(File.readlines(audit).last)["action"]
    # a program outside the allowed trees (a copy of true in the test's directory)
    FileUtils.cp("/bin/true", "#{dir}/allowed/true")
    _out, err, st = hijack("run", "-e", policy, "--", "sh", "-c", "#{dir}/allowed/true")
    assert_not_equal 0, st.exitstatus
    assert_include err, "Operation not permitted"
  end
end
