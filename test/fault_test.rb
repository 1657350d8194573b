# mrbtest: the fault verbs, through Hijack.simulate. (The faults these tests
# inject on purpose are logged nowhere.)
Hijack.__setenv("HIJACK_FAULT_LOG", "/dev/null")
def without_hooks
  Hijack.hooks.each { |h| Hijack.off(h) }
  yield
ensure
  Hijack.hooks.each { |h| Hijack.off(h) }
end

assert("Hijack.fail fails matching calls with the errno") do
  without_hooks do
    Hijack.fail :read, with: :EIO, path: "/data/**"
    r = Hijack.simulate(:open, path: "/data/x", returns: 3)
    assert_equal 3, r[:result], "other calls are untouched"
    Hijack.fail :open, with: Errno::ENOSPC, path: "/data/**"
    assert_equal [-1, Errno::ENOSPC::Errno], Hijack.simulate(:open, path: "/data/x").values_at(:result, :errno)
    assert_equal 0, Hijack.simulate(:open, path: "/elsewhere").values_at(:errno).first
  end
end

assert("after:, times: and every: count matching calls") do
  without_hooks do
    Hijack.fail :close, with: :EIO, after: 2, times: 2
    results = (1..6).map { Hijack.simulate(:close, fd: 3)[:result] }
    assert_equal [0, 0, -1, -1, 0, 0], results
    Hijack.hooks.each { |h| Hijack.off(h) }
    Hijack.fail :unlink, with: :EBUSY, every: 3
    results = (1..6).map { Hijack.simulate(:unlink, path: "/x")[:result] }
    assert_equal [0, 0, -1, 0, 0, -1], results
  end
end

assert("probability: injects on about that share of the calls") do
  without_hooks do
    Hijack.chaos(seed: 42) do
      Hijack.fail :dup, with: :EMFILE, probability: 0.5
      Hijack.fail :dup2, with: :EMFILE, probability: 0.1
    end
    # 2000 draws: the share is within 4.5 standard deviations of p
    half = (1..2000).map { Hijack.simulate(:dup, oldfd: 1)[:result] }.count(-1)
    assert_true half > 900 && half < 1100, "about half of 2000: #{half}"
    tenth = (1..2000).map { Hijack.simulate(:dup2, oldfd: 1, newfd: 5)[:result] }.count(-1)
    assert_true tenth > 140 && tenth < 260, "about a tenth of 2000: #{tenth}"
  end
end

assert("Hijack.short lowers the count; Hijack.drop reports datagrams as sent") do
  without_hooks do
    Hijack.short :write, max_bytes: 1
    r = Hijack.simulate(:write, fd: 1, count: 10, returns: 1)
    assert_equal 1, r[:args][:count]
    Hijack.drop :sendto
    r = Hijack.simulate(:sendto, fd: 3, count: 7, returns: -1)
    assert_equal [7, false], [r[:result], r[:proceeded]]
  end
end

# (that a partition refuses real connects is bintest/faults_test.rb's)
assert("Hijack.partition takes :refuse, :timeout or :blackhole") do
  without_hooks do
    assert_kind_of Hijack::Hook, Hijack.partition(host: "127.0.0.2", mode: :refuse)
    assert_raise(ArgumentError) { Hijack.partition host: "x", mode: :sideways }
  end
end

assert("fault options are checked") do
  without_hooks do
    assert_raise(ArgumentError) { Hijack.fail :read, with: :EBOGUS }
    assert_raise(ArgumentError) { Hijack.fail :read, with: :EIO, probability: 2 }
    assert_raise(ArgumentError) { Hijack.throttle :read, bytes_per_second: 0 }
    assert_raise(ArgumentError) { Hijack.corrupt :close }
  end
end

assert("fault flags parse into the Ruby verbs, and bad ones say what was expected") do
  f = Hijack::FaultFlags
  assert_equal "Hijack.fail(:read, with: :EIO, probability: 0.05) # --fail read:EIO@0.05",
               f.to_ruby(f.parse("--fail", "read:EIO@0.05"))
  assert_equal "Hijack.delay(:write, seconds: 0.05, jitter: 0.02) # --delay write:50ms~20ms",
               f.to_ruby(f.parse("--delay", "write:50ms~20ms"))
  assert_equal "Hijack.throttle(:read, :recv, bytes_per_second: 1000000) # --throttle read,recv:1MB/s",
               f.to_ruby(f.parse("--throttle", "read,recv:1MB/s"))
  assert_equal %(Hijack.partition(host: "::1", port: 80, mode: :blackhole) # --partition [::1]:80/blackhole),
               f.to_ruby(f.parse("--partition", "[::1]:80/blackhole"))
  e = assert_raise(ArgumentError) { f.parse("--fail", "read:EBOGUS") }
  assert_equal "--fail read:EBOGUS: unknown errno EBOGUS (expected a name like EIO or ENOSPC)", e.message
  e = assert_raise(ArgumentError) { f.parse("--delay", "write:fast") }
  assert_equal "--delay write:fast: expected a time like 50ms, 0.5s or 200us", e.message
  e = assert_raise(ArgumentError) { f.parse("--corrupt", "nosuchcall") }
  assert_include e.message, "unknown call nosuchcall"
end

assert("run: fault flags and their modifiers") do
  o = Hijack::CLI.parse_run(%w[--corrupt read@1 --times 1 --seed 7 -- cat x])
  assert_equal "7", o.env["HIJACK_SEED"]
  assert_include o.evals.last, "Hijack.corrupt(:read, probability: 1.0, times: 1)"
  e = assert_raise(ArgumentError) { Hijack::CLI.parse_run(%w[--times 1 -- cat]) }
  assert_include e.message, "applies to the fault flag before it"
end

assert("--fail-malloc-after N fails the memory family after N allocations") do
  o = Hijack::CLI.parse_run(%w[--fail-malloc-after 100 -- prog])
  assert_include o.evals.last, "Hijack.fail(:malloc, :calloc, :realloc, :posix_memalign, :aligned_alloc, with: :ENOMEM, after: 100)"
end

assert("the memory family: malloc fails with NULL, posix_memalign with its error code") do
  without_hooks do
    Hijack.fail :malloc, :posix_memalign, with: :ENOMEM
    assert_equal [0, Errno::ENOMEM::Errno], Hijack.simulate(:malloc, size: 10, returns: 4096).values_at(:result, :errno)
    assert_equal Errno::ENOMEM::Errno, Hijack.simulate(:posix_memalign, size: 10)[:result]
  end
end
