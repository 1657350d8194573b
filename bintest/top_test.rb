require_relative "helper"
include HijackBintest

# hijack top (issue 6): driven in tmux, its screen captured; and its plain
# mode without a terminal.

assert("hijack top in a terminal: live panels, q quits and the command goes on") do
  native_programs_only("sh and cat")
  skip "tmux is not installed" unless system("sh", "-c", "command -v tmux >/dev/null")
  in_tmpdir do |dir|
    stop = "#{dir}/stop"
    data = write("#{dir}/data.txt", "top\n")
    session = "hijack-top-#{Process.pid}"
    beats = "#{dir}/beats"
    loop_cmd = "while [ ! -e #{stop} ]; do cat #{data} >/dev/null; echo . >> #{beats}; sleep 0.1; done; echo LOOP-ENDED > #{dir}/ended"
    cmd = "#{exe} top -- sh -c '#{loop_cmd}'; echo TOP-QUIT; sleep 30"
    system("tmux", "new-session", "-d", "-s", session, "-x", "150", "-y", "40", cmd) or raise "tmux"
    begin
      capture = -> { `tmux capture-pane -p -t #{session}` }
      assert_true wait_until { capture.call.match?(/\d+\/s\s+(open|read|close)/) && capture.call.include?("#{dir}/data.txt") }, capture.call
      screen = capture.call
      assert_include screen, "hijack top:"
      assert_include screen, "calls per second"
      assert_include screen, "errors by errno"
      system("tmux", "send-keys", "-t", session, "q")
      assert_true wait_until { capture.call.include?("TOP-QUIT") }, "q quits top"
      # the command goes on: it keeps beating after q, then ends by itself when told
      seen = File.size(beats)
      assert_true wait_until { File.size(beats) > seen + 2 }, "the command goes on after q"
      assert_false File.exist?("#{dir}/ended")
      File.write(stop, "")
      assert_true wait_until { File.exist?("#{dir}/ended") }, "the command ended by itself, not killed by q"
    ensure
      File.write(stop, "")
      system("tmux", "kill-session", "-t", session, err: File::NULL)
    end
  end
end

assert("hijack top without a terminal: plain snapshots, then the command's status") do
  native_programs_only("sh and cat")
  in_tmpdir do |dir|
    data = write("#{dir}/data.txt", "top\n")
    out, _err, st = hijack("top", "--", "sh", "-c", "for i in 1 2 3; do cat #{data} > /dev/null; sleep 0.4; done; exit 4")
    assert_equal 4, st.exitstatus
    assert_include out, "== calls per second"
    assert_include out, "#{dir}/data.txt"
    assert_include out, "(exited 4)"
  end
end
