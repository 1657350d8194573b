# Deferred relocations of the preload library's mruby data.
#
# mruby's precompiled Ruby (the ireps of mrblib and of every gem, as C
# structs), its symbol-name table and its parser's tables hold absolute
# pointers: in a shared library each is a relocation the loader applies at
# load time, writing (and so copying) some thirty pages in every process the
# library is preloaded into, although only a process that opens a Ruby VM
# ever reads them. This step moves those relocations out of the library's
# packed relocations (.relr.dyn) into a table of hijack's own
# (HIJACK_LAZY_RELR, src/platform/relocs.rs), which the library applies
# itself, once per process, just before its first VM opens.
#
# Used by mrbgem.rake right after the library is linked (Linux, DT_RELR);
# `ruby tasks/lazy_relocations.rb LIB` reports what a library defers.
module Hijack
  module LazyRelocations
    SHT_SYMTAB = 2
    SHT_RELR = 19
    PT_GNU_RELRO = 0x6474e552
    TABLE = "HIJACK_LAZY_RELR"
    # Data only mruby's code reads, and only inside a VM: the ireps mrbc
    # emits as C (mrblib_*, gem_mrblib_*), the names of the presymbols, the
    # interpreter's jump table (vm.c), the parser's token names and keywords.
    LAZY = /\A(?:mrblib_|gem_mrblib_|presym_name_table\z|optable\.\d+\z|yytname\z|wordlist\.\d+\z)/

    Section = Struct.new(:name, :type, :addr, :offset, :size, :link)
    Symbol = Struct.new(:name, :value, :size, :shndx)

    class Elf
      attr_reader :word, :sections, :relro

      def initialize(bytes)
        raise "not an ELF file" unless bytes[0, 4] == "\x7fELF".b
        raise "not little-endian" unless bytes.getbyte(5) == 1
        @bytes = bytes
        @wide = bytes.getbyte(4) == 2
        @word = @wide ? 8 : 4
        read_sections
        read_relro
      end

      def unpack(offset, format) = @bytes.unpack(format, offset: offset)

      def words(offset, count) = @bytes.unpack("#{@wide ? 'Q<' : 'L<'}#{count}", offset: offset)

      def write_words(offset, list)
        packed = list.pack("#{@wide ? 'Q<' : 'L<'}*")
        @bytes[offset, packed.bytesize] = packed
      end

      def section(name) = @sections.find { |s| s.name == name }

      def symbols
        symtab = @sections.find { |s| s.type == SHT_SYMTAB } or raise "no symbol table (stripped?)"
        strtab = @sections[symtab.link]
        size = @wide ? 24 : 16
        (symtab.size / size).times.map do |i|
          at = symtab.offset + i * size
          if @wide
            name, _info, _other, shndx, value, sz = unpack(at, "L<CCS<Q<Q<")
          else
            name, value, sz, _info, _other, shndx = unpack(at, "L<L<L<CCS<")
          end
          Symbol.new(@bytes[strtab.offset + name, 256][/\A[^\0]*/], value, sz, shndx)
        end
      end

      # Where the byte at `addr` lies in the file.
      def file_offset(addr)
        s = @sections.find { |x| x.type != 8 && x.addr != 0 && addr >= x.addr && addr < x.addr + x.size }
        s or raise format("address 0x%x is in no section of the file", addr)
        s.offset + addr - s.addr
      end

      private

      def read_sections
        if @wide
          shoff, = unpack(0x28, "Q<")
          shentsize, shnum, shstrndx = unpack(0x3A, "S<S<S<")
          fmt = "L<L<Q<Q<Q<Q<L<L<"
        else
          shoff, = unpack(0x20, "L<")
          shentsize, shnum, shstrndx = unpack(0x2E, "S<S<S<")
          fmt = "L<L<L<L<L<L<L<L<"
        end
        raw = shnum.times.map { |i| unpack(shoff + i * shentsize, fmt) }
        names = raw[shstrndx][4]
        @sections = raw.map do |name, type, _flags, addr, offset, size, link, _info|
          Section.new(@bytes[names + name, 256][/\A[^\0]*/], type, addr, offset, size, link)
        end
      end

      def read_relro
        if @wide
          phoff, = unpack(0x20, "Q<")
          phentsize, phnum = unpack(0x36, "S<S<")
        else
          phoff, = unpack(0x1C, "L<")
          phentsize, phnum = unpack(0x2A, "S<S<")
        end
        phnum.times do |i|
          at = phoff + i * phentsize
          type, = unpack(at, "L<")
          next unless type == PT_GNU_RELRO
          vaddr, memsz = @wide ? unpack(at + 16, "Q<").concat(unpack(at + 40, "Q<")) : unpack(at + 8, "L<").concat(unpack(at + 20, "L<"))
          @relro = [vaddr, vaddr + memsz]
        end
      end
    end

    module_function

    # The addresses a packed relocation list relocates.
    def decode(entries, word)
      bits = word * 8 - 1
      where = 0
      entries.each_with_object([]) do |e, out|
        if e.even?
          out << e
          where = e + word
        else
          b = e >> 1
          i = 0
          while b != 0
            out << where + i * word if b.odd?
            b >>= 1
            i += 1
          end
          where += bits * word
        end
      end
    end

    # The packed list of sorted, word-aligned addresses (as lld packs them).
    def encode(addrs, word)
      bits = word * 8 - 1
      out = []
      i = 0
      while i < addrs.size
        raise format("address 0x%x is not word-aligned", addrs[i]) unless (addrs[i] % word).zero?
        out << addrs[i]
        where = addrs[i] + word
        i += 1
        loop do
          bitmap = 0
          while i < addrs.size && addrs[i] < where + bits * word
            bitmap |= 1 << ((addrs[i] - where) / word)
            i += 1
          end
          break if bitmap.zero?
          out << ((bitmap << 1) | 1)
          where += bits * word
        end
      end
      out
    end

    # What `patch` would do to the library in `bytes`: [elf, eager, lazy]
    # address lists, or nil when it has no packed relocations.
    def split(bytes)
      elf = Elf.new(bytes)
      relr = elf.section(".relr.dyn") or return nil
      raise ".relr.dyn is not SHT_RELR" unless relr.type == SHT_RELR
      addrs = decode(elf.words(relr.offset, relr.size / elf.word), elf.word).sort
      ranges = elf.symbols.select { |s| s.size > 0 && s.name.match?(LAZY) }.map { |s| [s.value, s.value + s.size] }.sort
      lazy, eager = addrs.partition do |a|
        r = ranges.bsearch { |_, stop| stop > a }
        r && r[0] <= a
      end
      [elf, eager, lazy]
    end

    # Rewrites the library at `path`: the lazy relocations leave .relr.dyn
    # (padded with empty bitmaps, which relocate nothing, so that no size
    # changes) and fill HIJACK_LAZY_RELR: [packed words, RELRO start, RELRO
    # end, packed words...]. Returns [eager, lazy] counts.
    def patch(path)
      bytes = File.binread(path)
      elf, eager, lazy = split(bytes)
      return nil unless elf && !lazy.empty?
      table = elf.symbols.find { |s| s.name == TABLE } or raise "#{path}: no #{TABLE} (src/platform/relocs.rs) to fill"
      relr = elf.section(".relr.dyn")
      slots = relr.size / elf.word
      kept = encode(eager, elf.word)
      raise "#{path}: the remaining relocations pack into more words than before" if kept.size > slots
      deferred = encode(lazy, elf.word)
      capacity = table.size / elf.word - 3
      raise "#{path}: #{deferred.size} deferred relocation words; #{TABLE} holds #{capacity} (raise its size)" if deferred.size > capacity
      relro = elf.relro or raise "#{path}: no PT_GNU_RELRO"
      elf.write_words(relr.offset, kept + [1] * (slots - kept.size))
      elf.write_words(elf.file_offset(table.value), [deferred.size, *relro] + deferred)
      # What was written reads back as what it replaced.
      again = Elf.new(bytes)
      back = decode(again.words(relr.offset, slots), elf.word)
      header = again.words(elf.file_offset(table.value), 3)
      back += decode(again.words(elf.file_offset(table.value) + 3 * elf.word, header[0]), elf.word)
      raise "#{path}: deferred relocations do not read back" unless back.sort == (eager + lazy).sort
      File.binwrite(path, bytes)
      [eager.size, lazy.size]
    end
  end
end

if $PROGRAM_NAME == __FILE__
  path = ARGV.fetch(0) { abort "usage: ruby tasks/lazy_relocations.rb LIBRARY: what the library's loader relocates, and what it leaves to hijack" }
  lazy_relocs = Hijack::LazyRelocations
  elf, eager, lazy = lazy_relocs.split(File.binread(path))
  abort "#{path}: no packed relocations (.relr.dyn)" unless elf
  pages = ->(list) { "#{list.size} words on #{list.map { |a| a >> 12 }.uniq.size} pages" }
  table = elf.symbols.find { |s| s.name == lazy_relocs::TABLE }
  count = table ? elf.words(elf.file_offset(table.value), 1)[0] : 0
  deferred = count.zero? ? [] : lazy_relocs.decode(elf.words(elf.file_offset(table.value) + 3 * elf.word, count), elf.word)
  puts "#{path}: the loader relocates #{pages.(eager)}; hijack, at a process's first VM: #{pages.(deferred)}"
  puts "not deferred yet (the build does it): #{pages.(lazy)}" unless lazy.empty?
end
