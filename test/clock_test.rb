# mrbtest: Hijack::Clock's parsing and arithmetic.
assert("Clock.to_ns reads times") do
  c = Hijack::Clock
  assert_equal 1_893_456_000 * c::NS, c.to_ns("2030-01-01 00:00:00 UTC")
  assert_equal 1_893_456_000 * c::NS, c.to_ns("2030-01-01")
  assert_equal 1_893_456_000 * c::NS, c.to_ns("2030-01-01T09:00:00+09:00")
  assert_equal 1_893_456_000 * c::NS, c.to_ns("2029-12-31 19:00:00 -0500")
  assert_equal 1_893_456_000 * c::NS, c.to_ns("@1893456000")
  assert_equal 5 * c::NS, c.to_ns(5)
  assert_raise(ArgumentError) { c.to_ns("next tuesday") }
end

assert("Clock.duration reads durations") do
  c = Hijack::Clock
  assert_equal 86_400.0, c.duration("+1d")
  assert_equal(-10_800.0, c.duration("-3h"))
  assert_equal 90.0, c.duration("1.5m")
  assert_raise(ArgumentError) { c.duration("soon") }
end

assert("run's --time flags become Clock calls") do
  o = Hijack::CLI.parse_run(["--time", "2030-01-01", "--time-scale", "10", "--", "date"])
  assert_equal ['Hijack::Clock.travel("2030-01-01")', "Hijack::Clock.scale(10.0)"], o.evals
  o = Hijack::CLI.parse_run(["--time", "+1d", "--freeze", "--", "date"])
  assert_equal ["Hijack::Clock.freeze", "Hijack::Clock.offset(86400.0)"], o.evals
end
