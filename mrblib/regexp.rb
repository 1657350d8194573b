# Regexp for hook code. mruby has none; hijack's (native part in
# src/ruby/native/, src/platform/regex.rs) is the C library's POSIX extended syntax with
# Ruby's common shorthands (\d \w \s \A \z). Offsets are in bytes.
class Regexp
  IGNORECASE = 1

  def self.new(source, options = nil)
    compile(source, options)
  end

  SPECIAL = ".*?+^$|()[]{}\\/-"

  def self.escape(text)
    out = ""
    text.to_s.each_char do |c|
      out << "\\" if SPECIAL.include?(c)
      out << c
    end
    out
  end

  def =~(string)
    return nil if string.nil?
    m = __offsets(string.to_s, 0)
    m && m[0][0]
  end

  def match?(string, pos = 0)
    !string.nil? && !__offsets(string.to_s, pos).nil?
  end

  def ===(other)
    (other.is_a?(String) || other.is_a?(Symbol)) && match?(other.to_s)
  end

  def match(string, pos = 0)
    return nil if string.nil?
    offsets = __offsets(string.to_s, pos)
    offsets && MatchData.new(self, string.to_s, offsets)
  end

  def options
    casefold? ? IGNORECASE : 0
  end

  def ==(other)
    other.is_a?(Regexp) && source == other.source && casefold? == other.casefold?
  end
  alias eql? ==

  def hash
    [source, casefold?].hash
  end

  def inspect
    "/#{source}/#{casefold? ? 'i' : ''}"
  end
  alias to_s inspect
end

class MatchData
  attr_reader :regexp, :string

  def initialize(regexp, string, offsets)
    @regexp = regexp
    @string = string
    @offsets = offsets
  end

  def [](i)
    o = @offsets[i]
    o && @string.byteslice(o[0], o[1] - o[0])
  end

  def begin(i)
    o = @offsets[i]
    o && o[0]
  end

  def end(i)
    o = @offsets[i]
    o && o[1]
  end

  def to_a
    (0...@offsets.size).map { |i| self[i] }
  end

  def captures
    to_a[1..-1]
  end

  def pre_match
    @string.byteslice(0, @offsets[0][0])
  end

  def post_match
    @string.byteslice(@offsets[0][1], @string.bytesize - @offsets[0][1])
  end

  def to_s
    self[0]
  end

  def inspect
    "#<MatchData #{self[0].inspect}>"
  end
end

class String
  alias __hijack_sub sub
  alias __hijack_gsub gsub
  alias __hijack_split split

  def =~(other)
    raise TypeError, "wrong argument type String (expected Regexp)" if other.is_a?(String)
    other =~ self
  end

  def match(pattern, pos = 0)
    pattern = Regexp.new(Regexp.escape(pattern)) unless pattern.is_a?(Regexp)
    pattern.match(self, pos)
  end

  def match?(pattern, pos = 0)
    pattern = Regexp.new(Regexp.escape(pattern)) unless pattern.is_a?(Regexp)
    pattern.match?(self, pos)
  end

  def sub(pattern, *rest, &block)
    return __hijack_sub(pattern, *rest, &block) unless pattern.is_a?(Regexp)
    __regexp_replace(pattern, rest, block, 1)
  end

  def gsub(pattern, *rest, &block)
    return __hijack_gsub(pattern, *rest, &block) unless pattern.is_a?(Regexp)
    __regexp_replace(pattern, rest, block, nil)
  end

  def scan(pattern)
    out = []
    pos = 0
    while pos <= bytesize && (m = pattern.match(self, pos))
      out << (m.captures.empty? ? m[0] : m.captures)
      pos = m.end(0) > m.begin(0) ? m.end(0) : m.end(0) + 1
    end
    out
  end

  def split(pattern = nil, limit = 0)
    return __hijack_split(pattern, limit) unless pattern.is_a?(Regexp)
    parts = []
    pos = 0
    while (limit <= 0 || parts.size < limit - 1) && (m = pattern.match(self, pos))
      break if m.end(0) == m.begin(0) && m.begin(0) >= bytesize
      if m.end(0) == m.begin(0)
        parts << byteslice(pos, m.begin(0) + 1 - pos)
        pos = m.begin(0) + 1
      else
        parts << byteslice(pos, m.begin(0) - pos)
        pos = m.end(0)
      end
    end
    parts << byteslice(pos, bytesize - pos)
    parts.pop while limit == 0 && !parts.empty? && parts.last.empty?
    parts
  end

  # Replaces matches of a Regexp: with a String (\0..\9 name groups), a Hash
  # (by matched text) or the block's value.
  def __regexp_replace(pattern, rest, block, count)
    out = ""
    pos = 0
    done = 0
    while (count.nil? || done < count) && pos <= bytesize && (m = pattern.match(self, pos))
      out << byteslice(pos, m.begin(0) - pos)
      out << if block
               block.call(m[0]).to_s
             elsif rest[0].is_a?(Hash)
               rest[0][m[0]].to_s
             else
               rest[0].to_s.gsub(/\\(\d)/) { |g| m[g[1].to_i].to_s }
             end
      done += 1
      if m.end(0) == m.begin(0)
        out << byteslice(m.end(0), 1).to_s
        pos = m.end(0) + 1
      else
        pos = m.end(0)
      end
    end
    out << byteslice(pos, bytesize - pos).to_s if pos < bytesize
    out
  end
end
