# mrbtest: the hook DSL and the hook chain, through Hijack.simulate (no real
# function runs). Each assert starts from no hooks.
def with_clean_hooks
  Hijack.hooks.each { |h| Hijack.off(h) }
  yield
ensure
  Hijack.hooks.each { |h| Hijack.off(h) }
end

assert("Hijack.calls lists the table") do
  assert_include Hijack.calls, :read
  assert_include Hijack.calls, :openat
  assert_include Hijack.calls, :open64
end

assert("Hijack.row: a call of the table as a Struct, its arguments and what it does to its path") do
  row = Hijack.row(:openat)
  assert_equal [:openat, :minus_one, [:file], :opens], [row.name, row.errors, row.groups, row.access]
  assert_equal %i[dirfd path flags mode], row.args.map(&:name)
  assert_equal [:path, "const char *"], [row.args[1].kind, row.args[1].ctype]
  assert_equal :in, Hijack.row(:write).buffer
  assert_nil Hijack.row(:read).access
  assert_raise(ArgumentError) { Hijack.row(:no_such_call) }
end

assert("Hijack.calls_that: the calls by their access in the table") do
  writes = Hijack.calls_that(:writes)
  assert_true %i[unlink rename mkdir chmod].all? { |c| writes.include?(c) }, writes.inspect
  assert_false writes.include?(:open)
  assert_equal %i[system popen], Hijack.calls_that(:shell)
  assert_equal [:connect], Hijack.calls_that(:connects)
  assert_true Hijack.calls_that(:executes).include?(:posix_spawn)
  assert_equal Hijack.calls_that(:opens, :stdio).sort, (Hijack.calls_that(:opens) + Hijack.calls_that(:stdio)).sort
end

assert("a hook's filters reach the native side as a FilterSpec, nothing else") do
  assert_raise(ArgumentError) { Hijack.__watch(:read, [[], nil, nil, [], nil, nil, []]) }
  spec = Hijack.__filter_spec({ fd: 3..5, path: ["/etc/**", /x/] })
  assert_equal [["/etc/**"], 3, 5], [spec.paths, spec.fd_min, spec.fd_max]
  assert_equal 1, spec.path_regexps.size
end

assert("Hijack.on refuses unknown calls and missing blocks") do
  with_clean_hooks do
    assert_raise(ArgumentError) { Hijack.on(:no_such_call) { |c| c.proceed } }
    assert_raise(ArgumentError) { Hijack.on(:read) }
    assert_raise(ArgumentError) { Hijack.on { |c| c.proceed } }
  end
end

assert("with no hook, a call proceeds to the real function") do
  with_clean_hooks do
    r = Hijack.simulate(:read, fd: 3, count: 10, returns: 7)
    assert_equal 7, r[:result]
    assert_true r[:proceeded]
  end
end

assert("raise Errno::X fails the call with that errno, without the real call") do
  with_clean_hooks do
    Hijack.on(:openat, :open) do |call|
      raise Errno::EACCES if call.path.start_with?("/etc/secret")
      call.proceed
    end
    denied = Hijack.simulate(:openat, path: "/etc/secret/key", returns: 3)
    assert_equal [-1, Errno::EACCES::Errno, false], [denied[:result], denied[:errno], denied[:proceeded]]
    allowed = Hijack.simulate(:open, path: "/etc/hosts", returns: 3)
    assert_equal [3, 0, true], [allowed[:result], allowed[:errno], allowed[:proceeded]]
  end
end

assert("the block's Integer value is the result; other values keep the real one") do
  with_clean_hooks do
    h = Hijack.on(:read) { |_call| 0 }
    r = Hijack.simulate(:read, returns: 100)
    assert_equal [0, false], [r[:result], r[:proceeded]]
    Hijack.off(h)
    Hijack.on(:read) { |call| call.proceed; nil }
    assert_equal 100, Hijack.simulate(:read, returns: 100)[:result]
  end
end

assert("a hook that neither proceeds nor returns an Integer lets the call proceed") do
  with_clean_hooks do
    seen = []
    Hijack.on(:close) { |call| seen << call.fd; nil }
    r = Hijack.simulate(:close, fd: 9, returns: 0)
    assert_equal [9], seen
    assert_true r[:proceeded]
  end
end

assert("call.fail takes a Symbol, an Errno class or a number") do
  with_clean_hooks do
    errno = nil
    Hijack.on(:write) { |call| call.fail(errno) }
    [[:EIO, 5], [Errno::ENOSPC, Errno::ENOSPC::Errno], [32, 32]].each do |given, expected|
      errno = given
      r = Hijack.simulate(:write, fd: 1, count: 4, returns: 4)
      assert_equal [-1, expected], [r[:result], r[:errno]]
    end
  end
end

assert("the real errno reaches the caller when the hook proceeds") do
  with_clean_hooks do
    Hijack.on(:openat) { |call| call.proceed }
    r = Hijack.simulate(:openat, path: "/missing", returns: -1, errno: Errno::ENOENT::Errno)
    assert_equal [-1, Errno::ENOENT::Errno], [r[:result], r[:errno]]
  end
end

assert("hooks may change arguments before proceeding") do
  with_clean_hooks do
    Hijack.on(:openat) do |call|
      call.path = "/tmp/elsewhere" if call.path == "/etc/motd"
      call.flags |= 0o100
      call.proceed
    end
    r = Hijack.simulate(:openat, path: "/etc/motd", flags: 1)
    assert_equal "/tmp/elsewhere", r[:args][:path]
    assert_equal 0o101, r[:args][:flags]
  end
end

assert("several hooks on one call chain in registration order") do
  with_clean_hooks do
    order = []
    Hijack.on(:read) { |call| order << :outer; r = call.proceed; order << :outer_done; r + 1 }
    Hijack.on(:read) { |call| order << :inner; call.proceed * 10 }
    assert_equal 21, Hijack.simulate(:read, returns: 2)[:result]
    assert_equal [:outer, :inner, :outer_done], order
  end
end

assert("before and after hooks keep registration order around the real call") do
  with_clean_hooks do
    order = []
    Hijack.after(:read) { |c| order << [:after1, c.result] }
    Hijack.before(:read) { |_c| order << :before1 }
    Hijack.after(:read) { |c| order << [:after2, c.result] }
    Hijack.before(:read) { |_c| order << :before2 }
    assert_equal 4, Hijack.simulate(:read, returns: 4)[:result]
    assert_equal [:before1, :before2, [:after2, 4], [:after1, 4]], order
  end
end

assert("a before hook that fails the call stops the hooks registered after it") do
  with_clean_hooks do
    order = []
    Hijack.after(:read) { |c| order << [:earlier_after, c.errno] }
    Hijack.before(:read) { |_c| raise Errno::EIO }
    Hijack.after(:read) { |_c| order << :later_after }
    r = Hijack.simulate(:read, returns: 4)
    assert_equal [-1, false], [r[:result], r[:proceeded]]
    assert_equal [[:earlier_after, Errno::EIO::Errno]], order
  end
end

assert("after hooks around an around hook, and more of them than wait in the frame") do
  with_clean_hooks do
    order = []
    6.times { |i| Hijack.after(:read) { |c| order << [i, c.result] } }
    Hijack.on(:read) { |c| order << :around; c.proceed + 1 }
    Hijack.after(:read) { |c| order << [:inner, c.result] }
    assert_equal 3, Hijack.simulate(:read, returns: 2)[:result]
    assert_equal [:around, [:inner, 2], [5, 3], [4, 3], [3, 3], [2, 3], [1, 3], [0, 3]], order
  end
end

assert("an after hook that raises Errno fails a call that succeeded") do
  with_clean_hooks do
    Hijack.after(:read) { |_c| raise Errno::EINTR }
    r = Hijack.simulate(:read, returns: 4)
    assert_equal [-1, Errno::EINTR::Errno, true], [r[:result], r[:errno], r[:proceeded]]
  end
end

assert("disabled hooks are skipped; enable brings them back") do
  with_clean_hooks do
    h = Hijack.on(:close) { |_call| raise Errno::EBADF }
    h.disable
    assert_false h.enabled?
    assert_equal 0, Hijack.simulate(:close, fd: 1)[:result]
    h.enable
    assert_equal Errno::EBADF::Errno, Hijack.simulate(:close, fd: 1)[:errno]
    Hijack.off(h)
    assert_equal [], Hijack.hooks(:close)
  end
end

assert("a hook that raises something else is skipped, and the call goes on") do
  with_clean_hooks do
    Hijack.on(:read) { |_call| raise "broken hook" }
    r = Hijack.simulate(:read, returns: 5)
    assert_equal [5, true], [r[:result], r[:proceeded]]
  end
end

assert("proceed twice in one hook is an error, reported like any other") do
  with_clean_hooks do
    calls = 0
    raised = nil
    Hijack.on(:read) do |call|
      calls += 1
      call.proceed
      begin
        call.proceed
      rescue Hijack::Error => e
        raised = e.message
      end
    end
    r = Hijack.simulate(:read, returns: 5)
    assert_equal [5, 1, true], [r[:result], calls, r[:proceeded]]
    assert_equal "a hook may call proceed only once", raised
    # uncaught, it is reported (once) and the call keeps its first result
    hook = Hijack.on(:write) { |call| call.proceed; call.proceed; 99 }
    r = Hijack.simulate(:write, returns: 3)
    assert_equal 3, r[:result]
    assert_true hook.instance_variable_get(:@reported)
  end
end

assert("accessors follow the table's argument names") do
  klass = Hijack::Call.for(:openat)
  assert_true klass.method_defined?(:path)
  assert_true klass.method_defined?(:dirfd=)
  assert_false Hijack::Call.for(:read).method_defined?(:path)
  assert_true Hijack::Call.for(:read).method_defined?(:count)
end

assert("Hijack.simulate names the arguments a call does not have") do
  assert_raise(ArgumentError) { Hijack.simulate(:read, path: "/x") }
end

assert("Hijack.errno_of") do
  assert_equal Errno::EACCES::Errno, Hijack.errno_of(:EACCES)
  assert_equal Errno::EACCES::Errno, Hijack.errno_of("EACCES")
  assert_equal Errno::EACCES::Errno, Hijack.errno_of(Errno::EACCES)
  assert_equal 7, Hijack.errno_of(7)
  assert_raise(ArgumentError) { Hijack.errno_of(:EBOGUS) }
  assert_raise(ArgumentError) { Hijack.errno_of(0) }
  assert_raise(ArgumentError) { Hijack.errno_of(String) }
end

assert("before hooks run first and may fail the call; after hooks see the result") do
  with_clean_hooks do
    seen = []
    Hijack.before(:unlink) { |call| seen << [:before, call.path]; raise Errno::EROFS if call.path == "/ro" }
    Hijack.after(:unlink) { |call| seen << [:after, call.result] }
    r = Hijack.simulate(:unlink, path: "/ro", returns: 0)
    assert_equal [-1, Errno::EROFS::Errno, false], [r[:result], r[:errno], r[:proceeded]]
    r = Hijack.simulate(:unlink, path: "/rw", returns: 0)
    assert_equal [0, true], [r[:result], r[:proceeded]]
    assert_equal [[:before, "/ro"], [:before, "/rw"], [:after, 0]], seen
  end
end

assert("an after hook may change the result") do
  with_clean_hooks do
    Hijack.after(:read) { |call| call.result = call.result / 2 }
    assert_equal 50, Hijack.simulate(:read, returns: 100)[:result]
  end
end

assert("path filters are globs; fd filters take Integers and Ranges") do
  with_clean_hooks do
    Hijack.before(:unlink, path: "/data/**") { raise Errno::EROFS }
    Hijack.before(:close, fd: 10..12) { raise Errno::EBADF }
    Hijack.before(:dup, fd: 7) { raise Errno::EMFILE }
    assert_equal Errno::EROFS::Errno, Hijack.simulate(:unlink, path: "/data/a/b")[:errno]
    assert_equal 0, Hijack.simulate(:unlink, path: "/database")[:errno]
    assert_equal Errno::EBADF::Errno, Hijack.simulate(:close, fd: 12)[:errno]
    assert_equal 0, Hijack.simulate(:close, fd: 13)[:errno]
    assert_equal Errno::EMFILE::Errno, Hijack.simulate(:dup, oldfd: 7)[:errno]
  end
end

assert("filters that do not fit the call are refused at registration") do
  with_clean_hooks do
    assert_raise(ArgumentError) { Hijack.on(:socket, path: "/x") { |c| c.proceed } }
    assert_raise(ArgumentError) { Hijack.on(:open, host: "127.0.0.1") { |c| c.proceed } }
    assert_raise(ArgumentError) { Hijack.on(:read, fd: "3") { |c| c.proceed } }
    assert_raise(ArgumentError) { Hijack.on(:read, colour: "red") { |c| c.proceed } }
    assert_raise(ArgumentError) { Hijack.on(:open, path: 3) { |c| c.proceed } }
  end
end

assert("Hijack::Shared holds numbers and strings across hooks") do
  Hijack::Shared[:test_k] = nil
  assert_nil Hijack::Shared[:test_k]
  assert_equal 1, Hijack::Shared.incr(:test_k)
  assert_equal 4, Hijack::Shared.incr("test_k", 3)
  assert_equal 4.5, Hijack::Shared.incr(:test_k, 0.5)
  Hijack::Shared[:test_s] = "text"
  assert_equal "text", Hijack::Shared[:test_s]
  assert_raise(ArgumentError) { Hijack::Shared.incr(:test_s) }
  assert_raise(ArgumentError) { Hijack::Shared[:test_a] = [1] }
  assert_equal "text", Hijack::Shared.to_h["test_s"]
end

assert("calls that cannot fail refuse call.fail") do
  with_clean_hooks do
    Hijack.on(:sleep) { |call| call.fail(:EINTR) }
    r = Hijack.simulate(:sleep, seconds: 1, returns: 0)
    assert_equal [0, true], [r[:result], r[:proceeded]], "the hook's error is reported and the call goes on"
  end
end
