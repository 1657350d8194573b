# Real servers under hijack (issue 18): redis-server measured with
# redis-benchmark (SET and GET), PostgreSQL with pgbench (select-only), each
# started by the benchmark in a temporary directory (a Unix socket, no TCP
# port) and stopped after: bare, with an observe-all Ruby hook in the server
# (a block on every call of the table but the allocator's) and under
# `strace -f -o FILE`. The clients run bare. Throughput in requests (or
# transactions) per second. Required by bench/run.rb; `ruby bench/servers.rb`
# prints the table alone. A server that is not installed is a row saying so.
require "fileutils"
require "open3"
require "tmpdir"
require "etc"

module Servers
  module_function

  OBSERVE_ALL = "Hijack.after(*Hijack::Trace.expand([:all])) { |c| Hijack::Shared.incr(:n) }".freeze
  POSTGRES_BIN = Dir.glob("/usr/lib/postgresql/*/bin").max

  # mode => ->(dir) { [env, argv prefix] } for the server's command.
  def modes(library)
    {
      "bare" => ->(_dir) { [{}, []] },
      "hijack, observe-all Ruby hook" => ->(_dir) { [{ "LD_PRELOAD" => library, "HIJACK_EVAL" => OBSERVE_ALL }, []] },
      "strace -f -o FILE" => ->(dir) { [{}, ["strace", "-f", "-o", File.join(dir, "strace.out")]] },
    }
  end

  def installed?(tool)
    system("sh", "-c", "command -v #{tool} >/dev/null 2>&1")
  end

  def wait_for(path, pid, seconds = 30)
    deadline = Time.now + seconds
    until File.exist?(path)
      raise "the server exited before #{path} appeared" if Process.waitpid(pid, Process::WNOHANG)
      raise "no #{path} after #{seconds} s" if Time.now > deadline
      sleep 0.05
    end
  end

  # (the server's process group: under strace, the server is strace's child)
  def stop(pid)
    Process.kill("TERM", -pid)
    Process.wait(pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end

  # {"SET" => rps, "GET" => rps}
  def redis(dir, env, prefix)
    sock = File.join(dir, "redis.sock")
    pid = Process.spawn(env, *prefix, "redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
                        "--appendonly", "no", "--dir", dir, out: File::NULL, err: File::NULL, pgroup: true)
    begin
      wait_for(sock, pid)
      out, _err, st = Open3.capture3("redis-benchmark", "-s", sock, "-t", "set,get", "-n", "50000", "-q")
      raise "redis-benchmark failed" unless st.success?
      # ("SET: 123456.79 requests per second, p50=...": the last value on the line)
      out.split(/[\r\n]/).filter_map { |l| (m = l.match(/\A(SET|GET): ([\d.]+) requests per second/)) && [m[1], m[2].to_f] }.to_h
    ensure
      stop(pid)
    end
  end

  # {"select-only" => tps}; the server runs as the postgres user (it refuses root).
  def postgres(dir, env, prefix)
    user = Etc.getpwnam("postgres") rescue Etc.getpwnam("nobody")
    data = File.join(dir, "pgdata")
    FileUtils.mkdir_p(data)
    FileUtils.chown(user.uid, user.gid, [dir, data])
    as_user = ["setpriv", "--reuid=#{user.uid}", "--regid=#{user.gid}", "--init-groups", "--"]
    _out, err, st = Open3.capture3(*as_user, "#{POSTGRES_BIN}/initdb", "-D", data, "-U", "postgres", "-A", "trust")
    raise "initdb failed: #{err.lines.last}" unless st.success?
    pid = Process.spawn(env, *prefix, *as_user, "#{POSTGRES_BIN}/postgres", "-D", data, "-k", dir, "-c", "listen_addresses=",
                        "-c", "fsync=off", out: File::NULL, err: File::NULL, pgroup: true)
    begin
      wait_for(File.join(dir, ".s.PGSQL.5432"), pid)
      _out, err, st = Open3.capture3("pgbench", "-i", "-s", "2", "-q", "-h", dir, "-U", "postgres", "postgres")
      raise "pgbench -i failed: #{err.lines.last}" unless st.success?
      out, err, st = Open3.capture3("pgbench", "-S", "-c", "2", "-j", "2", "-T", "8", "-h", dir, "-U", "postgres", "postgres")
      raise "pgbench failed: #{err.lines.last}" unless st.success?
      { "select-only" => out[/tps = ([\d.]+)/, 1].to_f }
    ensure
      stop(pid)
    end
  end

  SERVERS = {
    "redis-server (redis-benchmark)" => [%w[redis-server redis-benchmark], :redis],
    "PostgreSQL (pgbench)" => [%w[pgbench], :postgres],
  }.freeze

  # [[server, test, {mode => throughput}] or [server, nil, "why not"]]
  def measure(library, reps = 1)
    SERVERS.flat_map do |name, (tools, how)|
      missing = tools.find { |t| !installed?(t) } || (how == :postgres && POSTGRES_BIN.nil? && "postgres")
      next [[name, nil, "#{missing} not installed"]] if missing
      runs = Hash.new { |h, k| h[k] = Hash.new { |hh, kk| hh[kk] = [] } }
      reps.times do
        modes(library).each do |mode, setup|
          Dir.mktmpdir("hijack-server") do |dir|
            env, prefix = setup.call(dir)
            send(how, dir, env, prefix).each { |test, v| runs[test][mode] << v }
          end
        end
      end
      runs.map { |test, by_mode| [name, test, by_mode.transform_values { |vs| vs.sort[vs.size / 2] }] }
    rescue RuntimeError => e
      [[name, nil, e.message]]
    end
  end

  def table(rows, modes)
    lines = ["| server | test | #{modes.join(' | ')} | hijack x bare | strace x bare |",
             "|---|---|#{'---:|' * modes.size}---:|---:|"]
    rows.each do |name, test, v|
      next lines << "| #{name} | n/a | #{v} |#{' |' * (modes.size + 1)}" if test.nil?
      ratio = ->(m) { v[m] && v["bare"] && v["bare"] > 0 ? format("%.2fx", v[m] / v["bare"]) : "n/a" }
      lines << "| #{name} | #{test} | #{modes.map { |m| v[m] ? format('%.0f/s', v[m]) : 'n/a' }.join(' | ')} | " \
               "#{ratio.call('hijack, observe-all Ruby hook')} | #{ratio.call('strace -f -o FILE')} |"
    end
    lines
  end
end

if $PROGRAM_NAME == __FILE__
  root = File.expand_path("..", __dir__)
  library = File.join(root, "build", "host", "lib", "libhijack.so")
  puts Servers.table(Servers.measure(library), Servers.modes(library).keys)
end
