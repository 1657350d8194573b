//! A blackhole for simulated network partitions: a TCP listener on
//! 127.0.0.1 that never accepts and whose backlog hijack fills itself, so
//! that the kernel drops further SYNs and a connect to it hangs until the
//! caller's own timeout. One per process, made on first use.

use crate::platform::fds::{self, Owned};
use std::net::{TcpListener, TcpStream};
use crate::platform::lock::SpinLock;
use std::os::fd::IntoRawFd;

struct Blackhole {
    port: u16,
    /// The listener and the connections that fill its queue, as hijack's
    /// own descriptors (src/platform/fds/), open for the process's life.
    _sockets: Vec<Owned>,
}

/// Made on first use, by one thread, outside the lock (making it opens
/// sockets and may wait 0.8 s); not a OnceLock: a fork child must not
/// inherit one half made by a thread it does not have (it would wait for
/// it for ever): the child makes its own ([`forked`]).
enum State {
    Unmade,
    Making,
    Made(Option<Blackhole>),
}

static HOLE: SpinLock<State> = SpinLock::new(State::Unmade);

fn make() -> Option<Blackhole> {
    let listener = TcpListener::bind("127.0.0.1:0").ok()?;
    let addr = listener.local_addr().ok()?;
    // SAFETY: shrinking the backlog of our own socket.
    unsafe {
        use std::os::fd::AsRawFd;
        libc::listen(listener.as_raw_fd(), 0);
    }
    // Fill the queue: with a backlog of 0 the kernel completes one or two
    // handshakes, then drops SYNs.
    let mut fillers = Vec::new();
    for _ in 0..4 {
        match TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200)) {
            Ok(s) => fillers.push(s),
            Err(_) => break,
        }
    }
    let mut sockets: Vec<Owned> = fillers.into_iter().filter_map(|s| fds::adopt(s.into_raw_fd())).collect();
    sockets.extend(fds::adopt(listener.into_raw_fd()));
    Some(Blackhole { port: addr.port(), _sockets: sockets })
}

/// The port of this process's blackhole listener.
pub fn port() -> Option<u16> {
    loop {
        {
            let mut state = HOLE.lock();
            match &*state {
                State::Made(hole) => return hole.as_ref().map(|h| h.port),
                State::Unmade => {
                    *state = State::Making;
                    break;
                }
                State::Making => {}
            }
        }
        std::thread::yield_now();
    }
    let hole = make();
    let port = hole.as_ref().map(|h| h.port);
    *HOLE.lock() = State::Made(hole);
    port
}

/// Around fork: the lock is never held for long.
pub fn fork_lock() {
    HOLE.raw_lock();
}

/// # Safety
/// After [`fork_lock`], on the same thread (or in its fork child).
pub unsafe fn fork_unlock() {
    HOLE.raw_unlock();
}

/// In a fork child: a blackhole another thread of the parent was making is
/// this process's to make.
pub fn forked() {
    let mut state = HOLE.lock();
    if matches!(*state, State::Making) {
        *state = State::Unmade;
    }
}
