# mrbtest: Hijack::FS's mapping and Hijack::Policy's decisions, simulated.
# (The violations these tests provoke on purpose are logged nowhere.)
Hijack.__setenv("HIJACK_AUDIT", "/dev/null")
def clean
  Hijack.hooks.each { |h| Hijack.off(h) }
  yield
ensure
  Hijack.hooks.each { |h| Hijack.off(h) }
end

assert("FS.redirected maps exact paths and directory globs") do
  fs = Hijack::FS
  assert_equal "/tmp/h", fs.redirected("/etc/hosts", "/tmp/h", "/etc/hosts")
  assert_nil fs.redirected("/etc/hosts", "/tmp/h", "/etc/hosts2")
  assert_equal "/tmp/fix/a/b", fs.redirected("/srv/**", "/tmp/fix/**", "/srv/a/b")
  assert_equal "/tmp/fix", fs.redirected("/srv/**", "/tmp/fix/**", "/srv")
  assert_nil fs.redirected("/srv/**", "/tmp/fix/**", "/srvx/a")
end

assert("FS rules on simulated calls") do
  clean do
    Hijack::FS.hide "/secret/**"
    Hijack::FS.readonly "/ro/**"
    assert_equal Errno::ENOENT::Errno, Hijack.simulate(:stat, path: "/secret/key")[:errno]
    assert_equal Errno::EROFS::Errno, Hijack.simulate(:unlink, path: "/ro/x")[:errno]
    assert_equal 0, Hijack.simulate(:open, path: "/ro/x", flags: 0)[:errno], "reading a read-only path is fine"
    wr = Hijack.__open_flags[:wronly]
    assert_equal Errno::EROFS::Errno, Hijack.simulate(:open, path: "/ro/x", flags: wr)[:errno]
    assert_equal Errno::EROFS::Errno, Hijack.simulate(:fopen, path: "/ro/x", mode: "a")[:errno]
  end
end

assert("Policy: deny_all_else denies what no rule allows; exec is EPERM") do
  clean do
    Hijack::Policy.enforce do
      allow_read "/usr/**"
      allow_write "/tmp/**"
      allow_exec "/usr/bin/git"
      deny_all_else
    end
    wr = Hijack.__open_flags[:wronly]
    assert_equal 0, Hijack.simulate(:open, path: "/usr/lib/x", flags: 0)[:errno]
    assert_equal Errno::EACCES::Errno, Hijack.simulate(:open, path: "/etc/passwd", flags: 0)[:errno]
    assert_equal 0, Hijack.simulate(:open, path: "/tmp/x", flags: wr)[:errno]
    assert_equal Errno::EACCES::Errno, Hijack.simulate(:open, path: "/usr/lib/x", flags: wr)[:errno]
    assert_equal Errno::EPERM::Errno, Hijack.simulate(:execve, path: "/bin/sh")[:errno]
    assert_equal 0, Hijack.simulate(:execve, path: "/usr/bin/git")[:errno]
  end
end
