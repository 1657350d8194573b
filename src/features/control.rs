//! Live control (`hijack run --control`): each hooked process listens on a
//! Unix socket, `<dir>/<pid>.sock` in the user's control directory
//! ($XDG_RUNTIME_DIR/hijack, else /tmp/hijack-$UID; mode 0700, owner
//! checked), and only connections from the same user are served.
//!
//! Requests (one per connection, the reply is the answer):
//!   `eval NAME\nCODE`  compile CODE and load it: the control thread's own
//!                      VM runs it first (so the calls it hooks are known),
//!                      then every thread's VM at its next hooked call.
//!                      Reply: `ok ID` or `error: FILE:LINE: message`.
//!   `off ID`           remove the hooks that unit ID registered.
//!   `list`             the units in force, one `ID\tNAME\tFIRST LINE` per line.

use crate::platform::lock::SpinLock;
use crate::{platform::guard, platform::log};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Compiles live-control code and runs it first on the control thread
/// (`loader(id, name, source)`): the unit's bytecode, or the error to reply.
/// Made by the Ruby layer (vm::control_loader), on the control thread.
pub type Loader = Box<dyn FnMut(u64, &str, &str) -> Result<Vec<u8>, String>>;

pub struct Unit {
    pub id: u64,
    pub name: String,
    pub source: String,
    pub irep: Vec<u8>,
    pub removed: bool,
}

static ACTIVE: AtomicBool = AtomicBool::new(false);
static GENERATION: AtomicU64 = AtomicU64::new(0);
pub static UNITS: SpinLock<Vec<Unit>> = SpinLock::new(Vec::new());

/// The user's control directory, made (0700) and checked.
pub fn directory() -> Result<PathBuf, String> {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let dir = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d).join("hijack"),
        None => PathBuf::from(format!("/tmp/hijack-{uid}")),
    };
    if !dir.exists() {
        std::fs::DirBuilder::new().mode(0o700).create(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let meta = std::fs::symlink_metadata(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !meta.is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
        return Err(format!("{} must be a directory of yours with mode 0700", dir.display()));
    }
    Ok(dir)
}

pub fn socket_path(pid: u32) -> Result<PathBuf, String> {
    Ok(directory()?.join(format!("{pid}.sock")))
}

/// True when some unit changed since `seen` (one load per hooked call, only
/// with --control).
#[inline]
pub fn changed(seen: u64) -> Option<u64> {
    if !ACTIVE.load(Ordering::Relaxed) {
        return None;
    }
    let now = GENERATION.load(Ordering::Acquire);
    (now != seen).then_some(now)
}

/// Starts the control thread (HIJACK_CONTROL=1); it makes its loader with
/// `make_loader`.
pub fn start(make_loader: fn() -> Loader) {
    let path = match socket_path(std::process::id()) {
        Ok(p) => p,
        Err(e) => return log::line(&format!("hijack: --control: {e}")),
    };
    let _ = std::fs::remove_file(&path);
    let listener = match UnixListener::bind(&path).and_then(|l| l.set_nonblocking(true).map(|()| l)) {
        Ok(l) => l,
        Err(e) => return log::line(&format!("hijack: --control: cannot listen on {}: {e}", path.display())),
    };
    // One of hijack's own descriptors (src/platform/fds/): high, moved out of the
    // program's way when it acts on that number.
    let Some(listener) = crate::platform::fds::adopt(std::os::fd::IntoRawFd::into_raw_fd(listener)) else {
        return log::line("hijack: --control: no descriptor left for the control socket");
    };
    ACTIVE.store(true, Ordering::Relaxed);
    let owner = std::process::id();
    let spawned = std::thread::Builder::new().name("hijack-control".into()).spawn(move || {
        // Everything this thread does goes straight to the real functions.
        let _guard = guard::enter();
        let mut loader = make_loader();
        while std::process::id() == owner {
            // (a fork child inherits the socket, not the thread)
            if let Some(stream) = accept(listener) {
                let _ = serve(stream, &mut loader);
            }
        }
    });
    if spawned.is_err() {
        log::line("hijack: --control: cannot start the control thread");
    }
}

/// The next connection, or None after a second without one. The wait holds
/// no lock (the descriptor may move meanwhile: the wait ends within a
/// second and looks again); the accept itself does not block.
fn accept(listener: crate::platform::fds::Owned) -> Option<UnixStream> {
    use std::os::fd::FromRawFd;
    let mut poll = libc::pollfd { fd: listener.current(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    if unsafe { libc::poll(&mut poll, 1, 1000) } <= 0 {
        return None;
    }
    let stream = listener.with(|fd| {
        // SAFETY: the slot's socket, borrowed for the accept and not closed.
        let l = std::mem::ManuallyDrop::new(unsafe { UnixListener::from_raw_fd(fd) });
        l.accept().ok().map(|(s, _)| s)
    })?;
    stream.set_nonblocking(false).ok()?;
    Some(stream)
}

fn same_user(stream: &UnixStream) -> bool {
    use std::os::fd::AsRawFd;
    #[cfg(target_os = "linux")]
    {
        let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: cred is a valid out buffer of that length.
        let rc = unsafe {
            libc::getsockopt(stream.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PEERCRED, &mut cred as *mut _ as *mut libc::c_void, &mut len)
        };
        rc == 0 && cred.uid == unsafe { libc::getuid() }
    }
    #[cfg(target_os = "macos")]
    {
        let (mut uid, mut gid) = (0, 0);
        // SAFETY: valid out pointers.
        unsafe { libc::getpeereid(stream.as_raw_fd(), &mut uid, &mut gid) == 0 && uid == libc::getuid() }
    }
}

fn serve(mut stream: UnixStream, loader: &mut Loader) -> std::io::Result<()> {
    if !same_user(&stream) {
        return stream.write_all(b"error: not your process\n");
    }
    let mut request = Vec::new();
    Read::by_ref(&mut stream).take(1 << 20).read_to_end(&mut request)?;
    let text = String::from_utf8_lossy(&request).into_owned();
    let (head, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let reply = match head.split_once(' ').unwrap_or((head, "")) {
        ("eval", name) => eval(loader, if name.is_empty() { "ctl" } else { name }, body),
        ("off", id) => off(id.trim()),
        ("list", _) => list(),
        _ => "error: unknown request (eval, off, list)".to_string(),
    };
    stream.write_all(reply.as_bytes())?;
    stream.write_all(b"\n")
}

fn eval(loader: &mut Loader, name: &str, source: &str) -> String {
    let id = {
        let units = UNITS.lock();
        units.iter().map(|u| u.id).max().unwrap_or(0) + 1
    };
    let irep = match loader(id, name, source) {
        Ok(irep) => irep,
        Err(e) => return format!("error: {e}"),
    };
    UNITS.lock().push(Unit { id, name: name.to_string(), source: source.to_string(), irep, removed: false });
    GENERATION.fetch_add(1, Ordering::Release);
    format!("ok {id}")
}

fn off(id: &str) -> String {
    let Ok(id) = id.parse::<u64>() else { return "error: off takes a unit id".into() };
    let mut units = UNITS.lock();
    match units.iter_mut().find(|u| u.id == id && !u.removed) {
        Some(u) => {
            u.removed = true;
            drop(units);
            GENERATION.fetch_add(1, Ordering::Release);
            format!("ok {id} removed")
        }
        None => format!("error: no unit {id} in force"),
    }
}

fn list() -> String {
    let mut out = Vec::new();
    if let Some(s) = std::env::var_os("HIJACK_SCRIPT").filter(|s| !s.is_empty()) {
        out.push(format!("script\t{}", s.to_string_lossy()));
    }
    for u in UNITS.lock().iter().filter(|u| !u.removed) {
        out.push(format!("{}\t{}\t{}", u.id, u.name, u.source.lines().next().unwrap_or("")));
    }
    out.join("\n")
}

/// A request to process `pid`'s control socket; its reply.
pub fn request(pid: u32, text: &str) -> Result<String, String> {
    let path = socket_path(pid)?;
    let mut s = UnixStream::connect(&path).map_err(|e| format!("cannot reach process {pid} ({}): {e}", path.display()))?;
    s.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    s.shutdown(std::net::Shutdown::Write).map_err(|e| e.to_string())?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).map_err(|e| e.to_string())?;
    Ok(reply)
}

/// The processes with a control socket: (pid, command line).
pub fn processes() -> Result<Vec<(u32, String)>, String> {
    let dir = directory()?;
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).map_err(|e| e.to_string())?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_suffix(".sock").and_then(|p| p.parse::<u32>().ok()) else { continue };
        // SAFETY: signal 0 only checks that the process exists.
        if unsafe { libc::kill(pid as i32, 0) } != 0 {
            let _ = std::fs::remove_file(e.path());
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).split('\0').filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        out.push((pid, cmd));
    }
    out.sort();
    Ok(out)
}
