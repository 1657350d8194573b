# Hijack::Policy: allow/deny rules for files, peers and programs, with an
# audit trail.
#
#   Hijack::Policy.enforce do            # or Hijack::Policy.audit: log but allow
#     allow_read  "/usr/**", "/lib/**", "/etc/**", Dir.pwd + "/**"
#     allow_write "/tmp/**"
#     allow_connect "127.0.0.1:*", "[::1]:*"
#     allow_exec "/usr/bin/git", "/bin/sh"
#     deny_all_else
#   end
#
# Without deny_all_else nothing is denied. A violation fails with EACCES
# (EPERM for exec) and writes one JSON line to the audit log (HIJACK_AUDIT,
# `hijack run --audit FILE`; default hijack's log); each process lists what
# it denied at exit. What a preload library cannot stop: raw system calls,
# static binaries, a program that rewrites its own memory: for a boundary,
# use a kernel mechanism (Landlock, seccomp, namespaces/containers).
module Hijack
  module Policy

    # The rules, as the block of enforce/audit states them.
    class Rules
      attr_reader :allowed, :deny_rest

      def initialize
        @allowed = { read: [], write: [], connect: [], exec: [] }
        @deny_rest = false
      end

      def allow_read(*globs)
        @allowed[:read].concat(globs.flatten.map { |g| FS.absolute(g.to_s) })
      end

      def allow_write(*globs)
        @allowed[:write].concat(globs.flatten.map { |g| FS.absolute(g.to_s) })
      end

      def allow_connect(*peers)
        @allowed[:connect].concat(peers.flatten.map(&:to_s))
      end

      def allow_exec(*paths)
        @allowed[:exec].concat(paths.flatten.map { |g| FS.absolute(g.to_s) })
      end

      def deny_all_else
        @deny_rest = true
      end
    end

    class << self
      def enforce(&block)
        apply(:enforce, block)
      end

      def audit(&block)
        apply(:audit, block)
      end

      def apply(mode, block)
        raise ArgumentError, "Hijack::Policy.#{mode} needs a block" unless block
        rules = Rules.new
        rules.instance_eval(&block)
        @mode = mode
        @rules = rules
        @denied = {}
        install
        self
      end

      def install
        return if @installed
        @installed = true
        # the calls that do something to a path or peer (the table's access)
        calls = Hijack.calls_that(:opens, :stdio, :reads, :writes, :executes, :shell, :connects)
        Hijack.before(*Hijack.functions(calls)) { |call| Policy.check(call) }
        Hijack.at_exit do
          unless @denied.empty?
            list = @denied.map { |what, n| "#{what} (#{n})" }.join(", ")
            Hijack.log("hijack: policy #{@mode == :enforce ? 'denied' : 'would deny'} in pid #{Hijack.pid}: #{list}")
          end
        end
      end

      # [category, subject] pairs the call touches.
      def subjects(call)
        access = Hijack.row(call.__row).access
        return [[:connect, peer(call)]].compact.reject { |_, s| s.nil? } if access == :connects
        return [[:exec, "/bin/sh"]] if access == :shell
        out = []
        call.__kinds.each_with_index do |kind, i|
          next unless kind == :path
          path = call.__abs_path(i)
          next unless path
          if access == :executes
            out << [:exec, executable(call, i, path)]
          elsif FS.writes?(call, i)
            out << [:write, path]
          else
            out << [:read, path]
          end
        end
        out
      end

      # The program an exec call runs: execvp and friends search PATH.
      def executable(call, i, path)
        given = call.args[i].to_s
        return path if given.include?("/") || !%i[execvp execvpe execlp posix_spawnp].include?(call.function)
        CLI.resolve(given, Hijack.__getenv("PATH").to_s) || path
      end

      def peer(call)
        family = call.family
        return nil unless family == :inet || family == :inet6
        host = family == :inet6 ? "[#{call.host}]" : call.host
        "#{host}:#{call.port}"
      end

      # A path is judged as the kernel will see it: symlinks of its existing
      # part resolved (/bin/cat is /usr/bin/cat; a link out of an allowed
      # tree is not in it), against each pattern as written and with its
      # own fixed part resolved (allow "/bin/**" allows /usr/bin/cat). A
      # trailing /** covers the directory itself. Peers are compared as
      # given.
      def allowed?(category, subject)
        patterns = @rules.allowed[category]
        return patterns.any? { |pattern| Hijack.glob?(pattern, subject) } if category == :connect
        real = Hijack.__resolve(subject)
        patterns.any? { |pattern| resolved_patterns(pattern).any? { |p| path_match?(p, real) } }
      end

      def path_match?(pattern, path)
        Hijack.glob?(pattern, path) || (pattern.end_with?("/**") && pattern[0..-4] == path)
      end

      # The pattern, and the pattern with the symlinks of its fixed part
      # (up to the first glob character) resolved.
      def resolved_patterns(pattern)
        (@resolved ||= {})[pattern] ||= begin
          stop = ["*", "?", "["].map { |c| pattern.index(c) }.compact.min || pattern.size
          fixed = pattern[0, stop]
          cut = fixed.rindex("/") || 0
          base = fixed[0, cut]
          real = base.empty? ? base : Hijack.__resolve(base)
          [pattern, real + pattern[cut..-1]].uniq
        end
      end

      def check(call)
        return unless @rules && @rules.deny_rest
        subjects(call).each do |category, subject|
          next if allowed?(category, subject)
          key = "#{call.name} #{subject}"
          @denied[key] = (@denied[key] || 0) + 1
          record(call, category, subject)
          next if @mode == :audit
          raise(category == :exec ? Errno::EPERM : Errno::EACCES)
        end
      end

      def record(call, category, subject)
        field = category == :connect ? "peer" : "path"
        Hijack.__audit_log(
          "{\"time\":#{format('%.6f', Time.now.to_f)},\"pid\":#{Hijack.pid},\"argv0\":#{json(Hijack.__argv0)}," \
          "\"call\":#{json(call.name.to_s)},\"#{field}\":#{json(subject)},\"rule\":\"deny_all_else (#{category})\"," \
          "\"action\":\"#{@mode == :enforce ? 'denied' : 'audited'}\"}"
        )
      end

      def json(s)
        out = "\""
        s.to_s.each_char do |c|
          out << case c
                 when "\"" then "\\\""
                 when "\\" then "\\\\"
                 when "\n" then "\\n"
                 when "\t" then "\\t"
                 else c.ord < 0x20 ? format("\\u%04x", c.ord) : c
                 end
        end
        out << "\""
      end
    end
  end
end
