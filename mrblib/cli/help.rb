# The help texts of `hijack` and its commands, and the commands themselves.
# (the runner's only: a target process's VM never defines it)
if Hijack.__runner?
module Hijack
  class CLI
    HELP = <<~TEXT
      hijack #{Hijack.version} - hand a program's C library calls to hook code written in Ruby

      Usage:
        hijack run [-s FILE]... [-e CODE]... [--no-follow] [--] COMMAND [ARGS...]
        hijack eval FILE.rb | -e CODE
        hijack compile FILE.rb [-o FILE.mrb]
        hijack top [RUN OPTIONS] [--] COMMAND [ARGS...]
        hijack ps
        hijack ctl PID (-e CODE | -s FILE | --off ID | --list)
        hijack list [--functions] [NAME...]
        hijack version
        hijack help [COMMAND]

      Commands:
        run       run COMMAND with the hooks of the given scripts
        eval      run Ruby with the Hijack library (unit tests of hook scripts)
        compile   compile a hook script to mruby bytecode
        top       run COMMAND with a live view of its calls
        ps        list the processes started with `run --control`
        ctl       load or remove hook code in a running process
        list      list the system calls hijack sees, and the functions making them
        version   print hijack's version
        help      show this help, or a command's

      Run `hijack help run` for an example.
    TEXT

    HELP_RUN = <<~TEXT
      Usage: hijack run [-s FILE]... [-e CODE]... [--] COMMAND [ARGS...]

      Runs COMMAND (same pid, same exit status) with hijack's preload library,
      which runs the hooks of every script in the command and in the programs
      it runs.

      Options:
        -s, --script FILE   a hook script, Ruby or compiled .mrb (repeatable)
        -e, --eval CODE     hook code given on the command line (repeatable)
        --no-follow         hook COMMAND only: programs it runs with an
                            environment of their own (env -i) are not hooked
        --control           every process listens for `hijack ctl` (see `hijack help ctl`)
        --all-syscalls      every system call the programs make reaches the hooks, not
                            only the C library's functions (stdio's reads and writes,
                            raw `syscall` instructions): Linux x86_64 and i686,
                            Syscall User Dispatch; the names of `man 2` hook them.
                            On x86_64 sites making many calls are rewritten in
                            memory to skip the SIGSYS (HIJACK_ALL_SYSCALLS=sigsys:
                            never)
        -q, --quiet         no notes from the runner (the seed it drew for fault flags)
        --strict            refuse (exit 126) a command hijack cannot hook (statically
                            linked, or for a loader this build does not support),
                            or --all-syscalls where the kernel refuses it, instead
                            of running it unhooked, or with the C library's functions
                            only, with a warning
        -h, --help          show this help

      Faults (each sugar for the Ruby verb of the same name; CALLS is a
      comma-separated list of system calls, or NAME() for one function; @P a
      probability from 0 to 1):
        --fail CALLS:ERRNO[@P]           e.g. --fail read:EIO@0.05
        --delay CALLS:TIME[~JITTER][@P]  e.g. --delay write:50ms~20ms
        --throttle CALLS:RATE            e.g. --throttle read:1MB/s (per descriptor)
        --short CALLS:BYTES[@P]          e.g. --short write:1
        --corrupt CALLS[@P]              e.g. --corrupt read@0.01 (flips one bit)
        --partition HOST[:PORT][/MODE]   MODE refuse (default), timeout or blackhole
        --drop CALLS[@P]                 e.g. --drop sendto@0.3 (lost datagrams; TCP sends
                                         go through: see Hijack.drop's streams:)
        --fail-malloc-after N            every allocation after the first N fails (ENOMEM)
        --times N, --after N, --every N  limit the fault flag before them
        --seed N                         make every random decision reproducible
        --fault-log FILE                 one line per injected fault (default: hijack's log)
        --faults-summary                 at each process's exit, the count of each rule
                                         that fired there

      Files (Hijack::FS; GLOB: `*` within a segment, `**` across them):
        --redirect FROM=TO               e.g. /etc/hosts=/tmp/hosts or /srv/**=/tmp/fixture/**
        --fake PATH=CONTENT_FILE         PATH exists, with CONTENT_FILE's bytes
        --readonly GLOB                  writes, creates, renames, unlinks: EROFS
        --hide GLOB                      every path call: ENOENT

      Tracing (Hijack.trace; every process and thread of the tree):
        --trace CALLS                    system calls (openat: every function making it;
                                         open64() exactly that function), groups (file, net,
                                         process, time, memory, all: every call but malloc's),
                                         strace's classes (%file, %network...), !NAME to
                                         leave out: e.g. --trace all,memory or '%file,!close'
        -o, --output FILE                where the trace goes (default: hijack's log)
        --format strace|jsonl|chrome     strace's lines, JSON lines, or a Chrome/Perfetto trace
        -T                               each call's duration (strace format)
        --strsize N                      how much of strings and buffers is shown (default 32)
        --summary                        a table of calls, errors, time and bytes at the end
                                         (hijack then waits for the command: exit status the
                                         command's, 128+N for signal N)

      Policy (Hijack::Policy):
        --policy FILE.rb                 a Hijack::Policy.enforce/audit script
        --audit FILE                     one JSON line per violation (default: hijack's log)

      Time (Hijack::Clock; every process of the tree sees the same clock):
        --time "2030-01-01 00:00:00"     travel there (UTC unless a zone is given), or
        --time @1893456000 | +1d | -3h   to seconds since 1970, or by a duration
        --freeze                         time stands still (at --time, or now)
        --time-scale N                   time runs N times as fast (sleeps too)

      Every script is compiled first: a syntax error is reported as FILE:LINE
      and the command is not started (exit status 2). Programs COMMAND runs
      are hooked too, even when given an environment without hijack's
      variables, unless --no-follow.

      Environment:
        HIJACK_LIBRARY      the preload library to use (default: ../lib/#{Hijack.library_name}
                            next to the hijack executable)
        HIJACK_LOG          where hooks' Hijack.log lines and hijack's own
                            messages go (default: standard error)
        HIJACK_ON_ERROR     `abort`: an exception in a hook aborts the program
                            (default: reported once, the call goes on)
        HIJACK_SEED, HIJACK_FAULT_LOG, HIJACK_FAULTS_SUMMARY: as --seed,
                            --fault-log, --faults-summary

      Example:
        hijack run -e 'Hijack.on(:openat) { |c| raise Errno::EACCES if c.path == "/etc/hostname"; c.proceed }' \\
          -- cat /etc/hostname
    TEXT

    HELP_EVAL = <<~TEXT
      Usage: hijack eval FILE.rb [ARGS...]
             hijack eval -e CODE [ARGS...]

      Runs Ruby in hijack's embedded mruby with the Hijack library loaded, ARGV
      set to ARGS: hook authors unit-test their scripts with Hijack.simulate.
      Exit status: 0, or 1 when the code raised (reported as FILE:LINE).

      Example:
        hijack eval -e 'load_hooks = Hijack.on(:unlink) { raise Errno::EROFS }
                        p Hijack.simulate(:unlink, path: "/data/x")'
    TEXT

    HELP_COMPILE = <<~TEXT
      Usage: hijack compile FILE.rb [-o FILE.mrb]

      Compiles a hook script to mruby bytecode (default output: FILE.mrb beside
      it). `hijack run -s FILE.mrb` loads it without compiling.
    TEXT

    HELP_TOP = <<~TEXT
      Usage: hijack top [RUN OPTIONS] [--] COMMAND [ARGS...]

      Runs COMMAND (with any of `hijack run`'s options) and shows, every
      second: calls per second by call, errors by errno, bytes in and out,
      the files and peers with most traffic, the slowest recent calls.
      q quits the view; the command goes on. Without a terminal, prints a
      plain snapshot every second until the command ends (exit status the
      command's).
    TEXT

    HELP_PS = <<~TEXT
      Usage: hijack ps

      Lists your processes that run with `hijack run --control`: PID and
      command line.
    TEXT

    HELP_CTL = <<~TEXT
      Usage: hijack ctl PID -e CODE | -s FILE | --off ID | --list

      Talks to a process started with `hijack run --control` (only yours):
        -e CODE, -s FILE   load hook code; every thread picks it up at its
                           next hooked call. Prints the unit's ID.
        --off ID           remove the hooks that unit ID registered
        --list             the scripts and units in force

      Example:
        hijack ctl 4242 -e 'Hijack.fail(:read, with: :EIO, path: "/data/**")'
        hijack ctl 4242 --off 1
    TEXT

    HELP_LIST = <<~TEXT
      Usage: hijack list [--functions] [NAME|GROUP|%CLASS|!NAME ...]

      Lists the system calls hijack sees here, each with the C library
      functions that make it, as a hook, trace or fault named after the
      call runs on them:

        openat          file       open open64 openat ... fopen fopen64

      A function that makes no one system call (getaddrinfo, malloc) is
      listed under its own name. Names narrow the list as --trace reads
      them: a call (openat, or the manual's open), a group (file net
      process time memory all), one of strace's classes (%file %desc
      %network %process %memory %signal %ipc %clock %creds), !NAME to
      leave out. NAME() means exactly the function NAME.

      --functions   one line per function: name, groups, the system call
                    it makes here (- for none), C prototype
    TEXT

    HELP_VERSION = <<~TEXT
      Usage: hijack version

      Prints hijack's version.
    TEXT

    COMMANDS = {
      "run" => Command.new(:run, HELP_RUN),
      "eval" => Command.new(:eval, HELP_EVAL),
      "compile" => Command.new(:compile, HELP_COMPILE),
      "top" => Command.new(:top, HELP_TOP),
      "ps" => Command.new(:ps, HELP_PS),
      "ctl" => Command.new(:ctl, HELP_CTL),
      "list" => Command.new(:list, HELP_LIST),
      "version" => Command.new(:version, HELP_VERSION),
      "help" => Command.new(:help, HELP),
    }
  end
end
end # Hijack.__runner?
