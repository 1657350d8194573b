//! A blackhole for simulated network partitions: a TCP listener on
//! 127.0.0.1 that never accepts and whose backlog hijack fills itself, so
//! that the kernel drops further SYNs and a connect to it hangs until the
//! caller's own timeout. One per process, made on first use.

use crate::platform::fds::{self, Owned};
use std::net::{TcpListener, TcpStream};
use std::os::fd::IntoRawFd;
use std::sync::OnceLock;

struct Blackhole {
    port: u16,
    /// The listener and the connections that fill its queue, as hijack's
    /// own descriptors (src/platform/fds/), open for the process's life.
    _sockets: Vec<Owned>,
}

static HOLE: OnceLock<Option<Blackhole>> = OnceLock::new();

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
    HOLE.get_or_init(make).as_ref().map(|h| h.port)
}
