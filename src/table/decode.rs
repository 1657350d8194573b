//! How the strace format shows each argument: the vocabulary of the
//! tables' `decode ARG=NAME` (src/features/trace/strace.rs reads it).

/// How the strace format shows a number or pointer argument (the table's
/// `decode ARG=NAME`, or a default by argument name and C type: build.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decode {
    Plain,
    /// open's flags: O_WRONLY|O_CREAT
    Open,
    /// send/recv flags: MSG_*
    Msg,
    /// fstatat's AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH...
    At,
    /// unlinkat's AT_REMOVEDIR
    AtRemovedir,
    /// faccessat's AT_EACCESS|AT_SYMLINK_NOFOLLOW
    AtEaccess,
    /// statx's flags: the AT_STATX_SYNC_* type, then the AT_ bits
    StatxFlags,
    /// statx's mask: STATX_*
    StatxMask,
    /// socket's type: SOCK_STREAM|SOCK_CLOEXEC
    SockType,
    /// accept4's flags: SOCK_CLOEXEC|SOCK_NONBLOCK
    SockFlags,
    /// dup3's flags: O_CLOEXEC
    Cloexec,
    /// renameat2's flags: RENAME_*
    Rename,
    /// clock_nanosleep's flags: TIMER_ABSTIME
    Timer,
    /// close_range's flags: CLOSE_RANGE_*
    CloseRange,
    /// AF_INET
    Family,
    /// CLOCK_MONOTONIC
    Clock,
    /// SEEK_SET
    Whence,
    /// access's mode: R_OK|W_OK, F_OK
    Amode,
    /// SHUT_RD
    Shut,
    /// rt_sigprocmask's how: SIG_BLOCK
    SigHow,
    /// fcntl's command: F_GETFL
    Fcntl,
    /// fcntl's argument, as its command reads it (left out when unused)
    FcntlArg,
    /// a `socklen_t *`: [16]
    Socklen,
    /// an address the call fills: decoded only after it succeeded
    SockaddrOut,
    /// epoll_ctl's op: EPOLL_CTL_ADD
    EpollCtl,
    /// posix_fadvise's advice: POSIX_FADV_WILLNEED
    Fadvise,
    /// a socket option's level: SOL_SOCKET
    SockLevel,
    /// fallocate's mode: FALLOC_FL_KEEP_SIZE
    Fallocate,
    /// flock's operation: LOCK_EX|LOCK_NB
    Flock,
    /// inotify's mask: IN_MODIFY|IN_CREATE
    Inotify,
    /// ioctl's request: TCGETS, or _IOC(...)
    Ioctl,
    /// a number shown in hex (ioctl's argument)
    Hex,
    /// mknod's device: shown only for a character or block device
    Dev,
    /// the bytes it points to, as many as the next argument says
    /// (setsockopt's optval); `[N]` for an option known to be an int
    Bytes,
    /// socket's protocol: IPPROTO_TCP (for AF_INET and AF_INET6)
    Protocol,
    /// a socket option's name, by its level (the argument before): SO_ERROR
    Sockopt,
    /// getsockopt's optval, filled: `[N]` for an int
    SockoptOut,
    /// the two descriptors a call fills (pipe's, socketpair's): [3, 4]
    FdPair,
    /// mmap's protection: PROT_READ|PROT_WRITE (PROT_NONE)
    Prot,
    /// mmap's flags: MAP_PRIVATE|MAP_ANONYMOUS
    MmapFlags,
    /// clone's flags and the exit signal in their low byte
    /// (CLONE_VM|CLONE_VFORK|SIGCHLD); its presence lays the call out as
    /// strace does: child_stack=, flags=, parent_tid=, tls=, child_tidptr=
    CloneFlags,
    /// a signal number: SIGTERM
    Signal,
    /// the struct stat a call filled, abbreviated (`{st_mode=S_IFREG|0644,
    /// st_size=7, ...}`), when the function's buffer is one (not on i386,
    /// where glibc's statx fills its own)
    Stat,
    /// the struct statx a call filled, abbreviated
    Statx,
    /// an iovec array being written: `[{iov_base="hi", iov_len=2}]` (its
    /// length the next argument)
    Iovec,
    /// an iovec array a call filled: as many bytes as it read
    IovecOut,
    /// a child's status wait4 wrote: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`
    Wstatus,
    /// waitpid's options: WNOHANG|__WALL
    WaitOptions,
    /// bytes always quoted in hex, as strace quotes getrandom's
    HexBuf,
    /// getrandom's flags: GRND_NONBLOCK
    Getrandom,
    /// poll's descriptors: [{fd=3, events=POLLIN}], and after a result > 0
    /// the returned events
    PollFds,
}
