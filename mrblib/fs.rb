# Hijack::FS: fake and redirected files, read-only and hidden paths, for a
# program and every process it starts (FakeFS's idea, any program's reach).
#
#   Hijack::FS.redirect "/etc/hosts" => "/tmp/test-hosts", "/srv/data/**" => "/tmp/fixture/**"
#   Hijack::FS.fake "/etc/motd", "hello\n"     # a file that exists only for this process tree
#                                             # (each process has a private copy, made on first
#                                             # use, removed at its exit)
#   Hijack::FS.fake "/srv/big.db", file: "fixtures/big.db"   # a copy of that file's bytes, of
#                                             # any size, taken when a process first opens it
#   Hijack::FS.readonly "/srv/**"              # writes, creates, renames, unlinks, truncates: EROFS
#   Hijack::FS.hide "/home/*/.ssh/**"          # ENOENT for every path call
#
# Every call of the table with a path argument is covered (opens, stdio
# opens, the stat family, access, exec, unlink, rename, mkdir, readlink,
# ...); relative paths are resolved first. Globs: `*` within a segment, `**`
# across them. Directory listings (readdir) leave hidden paths out and show
# fake files in their directory.
module Hijack
  module FS

    @rules = []
    @fakes = {}
    @hook = nil

    class << self
      def redirect(map = {}, **pairs)
        map.merge(pairs).each do |from, to|
          check_redirect(from.to_s, to.to_s)
          add(:redirect, absolute(from.to_s), absolute(to.to_s))
        end
        self
      end

      def check_redirect(from, to)
        exact = !from.include?("*") && !to.include?("*")
        tree = from.end_with?("/**") && to.end_with?("/**") && !from[0..-4].include?("*") && !to[0..-4].include?("*")
        return if exact || tree
        raise ArgumentError, "redirect takes exact paths or DIR/** => DIR/**, not #{from.inspect} => #{to.inspect}"
      end

      def fake(path, content = nil, file: nil)
        raise ArgumentError, "FS.fake takes content or file:, not both" if content && file
        raise ArgumentError, "FS.fake needs content or file:" if content.nil? && file.nil?
        add(:fake, absolute(path.to_s), file ? [:file, absolute(file.to_s)] : content.to_s)
      end

      def readonly(*globs)
        globs.flatten.each { |g| add(:readonly, absolute(g.to_s), nil) }
        self
      end

      def hide(*globs)
        globs.flatten.each { |g| add(:hide, absolute(g.to_s), nil) }
        self
      end

      def rules
        @rules.dup
      end

      def absolute(path)
        raise ArgumentError, "a path pattern cannot be empty" if path.empty?
        path.start_with?("/") ? path : File.expand_path(path)
      end

      def add(kind, pattern, extra)
        @rules << [kind, pattern, extra]
        install
        self
      end

      # One before-hook on every call with a path, whose native filter is
      # the union of the rules' patterns: other paths never enter Ruby.
      def install
        Hijack.off(@hook) if @hook
        patterns = @rules.map { |kind, pattern, _| kind == :redirect && pattern.end_with?("/**") ? [pattern, pattern[0..-4]] : pattern }.flatten.uniq
        @hook = Hijack.before(*Hijack.functions(path_calls), path: patterns) { |call| FS.apply(call) }
        Hijack.__listing(@rules.select { |kind, _, _| kind == :hide }.map { |_, pattern, _| pattern },
                         @rules.select { |kind, _, _| kind == :fake }.map { |_, pattern, _| pattern })
      end

      def path_calls
        @path_calls ||= Hijack.table.select { |row| row.args.any? { |a| a.kind == :path } }.map(&:name)
      end

      def apply(call)
        kinds = call.__kinds
        kinds.each_with_index do |kind, i|
          next unless kind == :path
          path = call.__abs_path(i)
          next unless path
          @rules.each do |rule, pattern, extra|
            case rule
            when :hide
              raise Errno::ENOENT if Hijack.glob?(pattern, path)
            when :readonly
              raise Errno::EROFS if Hijack.glob?(pattern, path) && writes?(call, i)
            when :fake
              if path == pattern
                call.__set_arg(i, fake_path(pattern, extra))
                break
              end
            when :redirect
              target = redirected(pattern, extra, path)
              if target
                call.__set_arg(i, target)
                break
              end
            end
          end
        end
      end

      def redirected(from, to, path)
        return to if path == from
        return nil unless from.end_with?("/**")
        base = from[0..-4]
        return to[0..-4] if path == base
        return nil unless path.start_with?("#{base}/")
        "#{to[0..-4]}#{path[base.size..-1]}"
      end

      # The file behind a fake path in this process (made on first use).
      def fake_path(path, content)
        @fakes[path] ||= if content.is_a?(Array)
                           Hijack.__fake_copy(File.basename(path), content[1])
                         else
                           Hijack.__fake_path(File.basename(path), content)
                         end
      end

      # Whether the call writes through its path argument `i`: by what the
      # table says it does (its access), and for an open by its flags or mode.
      def writes?(call, _i)
        case Hijack.row(call.__row).access
        when :writes then true
        when :opens
          f = Hijack.__open_flags
          call.flags & (f[:wronly] | f[:rdwr] | f[:creat] | f[:trunc] | f[:append]) != 0
        when :stdio then call.mode.to_s.count("wa+") > 0
        else false
        end
      end
    end
  end
end
