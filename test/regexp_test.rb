# mrbtest: hijack's Regexp (POSIX extended with Ruby's shorthands).
assert("Regexp literals, =~, match? and ===") do
  assert_equal 2, /a(\d+)b/ =~ "xxa12b"
  assert_nil(/z/ =~ "abc")
  assert_true "/etc/passwd".match?(/pass/)
  assert_true(/\A\/tmp\// === "/tmp/x")
  assert_false(/\A\/tmp\// === :x)
  assert_true Regexp.new("SEC", "i").match?("/secret")
  assert_true Regexp.new("SEC", Regexp::IGNORECASE).casefold?
end

assert("MatchData") do
  m = "/tmp/app_1.log".match(/(\w+)\.(log)\z/)
  assert_equal ["app_1.log", "app_1", "log"], m.to_a
  assert_equal ["app_1", "log"], m.captures
  assert_equal "/tmp/", m.pre_match
  assert_equal "", m.post_match
  assert_equal [5, 14], [m.begin(0), m.end(0)]
end

assert("String#sub, #gsub, #scan, #split with a Regexp") do
  assert_equal "a#b#c", "a1b22c".gsub(/\d+/, "#")
  assert_equal "a<1>b22c", "a1b22c".sub(/(\d)/, "<\\1>")
  assert_equal "a[1]b[22]c", "a1b22c".gsub(/\d+/) { |d| "[#{d}]" }
  assert_equal %w[x y z], "x-y_z".split(/[-_]/)
  assert_equal %w[1 2], "a1b2".scan(/\d/)
  assert_equal "a.b", "a-b".sub("-", "."), "String patterns still work"
end

assert("what POSIX cannot do is a RegexpError that says so") do
  e = assert_raise(RegexpError) { Regexp.new("a+?") }
  assert_include e.message, "lazy"
  assert_raise(RegexpError) { Regexp.new("(") }
  assert_equal "a\\.b\\*", Regexp.escape("a.b*")
end

assert("path filters take Regexps") do
  Hijack.hooks.each { |h| Hijack.off(h) }
  Hijack.before(:unlink, path: /\.lock\z/) { raise Errno::EBUSY }
  assert_equal Errno::EBUSY::Errno, Hijack.simulate(:unlink, path: "/tmp/x.lock")[:errno]
  assert_equal 0, Hijack.simulate(:unlink, path: "/tmp/x.lockx")[:errno]
  Hijack.hooks.each { |h| Hijack.off(h) }
end
