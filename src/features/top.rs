//! `hijack top`: a live view of a command's calls, from the JSON-lines
//! trace its processes write: calls per second by name, errors by errno,
//! bytes in and out, the files and peers with most traffic, the slowest
//! recent calls. Refreshed every second; `q` quits (the command keeps
//! running). Without a terminal it prints a plain snapshot every second
//! until the command ends.

use ratatui::crossterm::event::{self, Event, KeyCode};
use ratatui::crossterm::terminal;
use ratatui::layout::{Constraint, Direction, Layout};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::collections::HashMap;
use std::io::{IsTerminal, Read, Seek, SeekFrom};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Stats {
    total: u64,
    per_call: HashMap<String, u64>,
    last_second: HashMap<String, u64>,
    errors: HashMap<String, u64>,
    bytes_in: u64,
    bytes_out: u64,
    /// (pid, fd) -> file or peer
    names: HashMap<(i64, i64), String>,
    traffic: HashMap<String, u64>,
    slowest: Vec<(u64, String)>,
    partial: String,
}

const READS: &[&str] = &["read", "pread", "pread64", "recv", "recvfrom", "readv", "recvmsg"];
const WRITES: &[&str] = &["write", "pwrite", "pwrite64", "send", "sendto", "writev", "sendmsg"];

impl Stats {
    /// Takes in new trace text (lines may be cut between two reads).
    pub fn feed(&mut self, text: &str) {
        self.partial.push_str(text);
        let Some(end) = self.partial.rfind('\n') else { return };
        let complete: String = self.partial.drain(..=end).collect();
        for line in complete.lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                self.event(&v);
            }
        }
    }

    fn event(&mut self, v: &serde_json::Value) {
        let call = v["call"].as_str().unwrap_or("?").to_string();
        let result = v["result"].as_i64().unwrap_or(0);
        let pid = v["pid"].as_i64().unwrap_or(0);
        let args = &v["args"];
        if v["resumed"] == true {
            // (a failed exec's second line: the call was counted when entered)
            if let Some(e) = v["errno"].as_str() {
                *self.errors.entry(e.to_string()).or_default() += 1;
            }
            return;
        }
        self.total += 1;
        *self.per_call.entry(call.clone()).or_default() += 1;
        *self.last_second.entry(call.clone()).or_default() += 1;
        if let Some(e) = v["errno"].as_str() {
            *self.errors.entry(e.to_string()).or_default() += 1;
        }
        let fd = args["fd"].as_i64();
        if call.starts_with("open") || call.starts_with("creat") || call.starts_with("__open") {
            if let (Some(path), true) = (args["path"].as_str(), result >= 0) {
                self.names.insert((pid, result), path.to_string());
            }
        }
        if call == "connect" {
            if let (Some(fd), Some(host)) = (fd, args["addr"]["host"].as_str()) {
                let port = args["addr"]["port"].as_i64().map(|p| format!(":{p}")).unwrap_or_default();
                self.names.insert((pid, fd), format!("{host}{port}"));
            }
        }
        if result > 0 && (READS.contains(&call.as_str()) || WRITES.contains(&call.as_str())) {
            if READS.contains(&call.as_str()) {
                self.bytes_in += result as u64;
            } else {
                self.bytes_out += result as u64;
            }
            if let Some(name) = fd.and_then(|fd| self.names.get(&(pid, fd))) {
                *self.traffic.entry(name.clone()).or_default() += result as u64;
            }
        }
        let ns = v["ns"].as_u64().unwrap_or(0);
        self.slowest.push((ns, format!("{call} pid {pid} = {result}")));
        self.slowest.sort_by(|a, b| b.0.cmp(&a.0));
        self.slowest.truncate(8);
    }

    fn top(map: &HashMap<String, u64>, n: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = map.iter().map(|(k, c)| (k.clone(), *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// The view as text panels: (title, lines).
    pub fn panels(&self) -> Vec<(String, Vec<String>)> {
        let rate = Self::top(&self.last_second, 10).into_iter().map(|(k, c)| format!("{c:>8}/s  {k}")).collect();
        let errors = Self::top(&self.errors, 8).into_iter().map(|(k, c)| format!("{c:>8}  {k}")).collect();
        let io = vec![
            format!("calls      {:>12}", self.total),
            format!("bytes in   {:>12}", self.bytes_in),
            format!("bytes out  {:>12}", self.bytes_out),
        ];
        let traffic = Self::top(&self.traffic, 8).into_iter().map(|(k, c)| format!("{c:>10} B  {k}")).collect();
        let slow = self.slowest.iter().map(|(ns, what)| format!("{:>10.3} ms  {what}", *ns as f64 / 1e6)).collect();
        vec![
            ("calls per second".into(), rate),
            ("errors by errno".into(), errors),
            ("totals".into(), io),
            ("files and peers with most traffic".into(), traffic),
            ("slowest recent calls".into(), slow),
        ]
    }

    pub fn tick(&mut self) {
        self.last_second.clear();
    }
}

fn child_status(pid: i32) -> Option<i32> {
    let mut status = 0;
    // SAFETY: polling our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    (r == pid).then(|| if libc::WIFSIGNALED(status) { 128 + libc::WTERMSIG(status) } else { libc::WEXITSTATUS(status) })
}

fn read_new(file: &mut std::fs::File, offset: &mut u64) -> String {
    let mut buf = String::new();
    if file.seek(SeekFrom::Start(*offset)).is_ok() {
        if let Ok(n) = file.read_to_string(&mut buf) {
            *offset += n as u64;
        }
    }
    buf
}

/// Runs the view over the trace at `path` of the command `pid`. Returns the
/// command's exit status once it ended, or None when the user quit first.
pub fn run(path: &str, pid: i32, title: &str) -> std::io::Result<Option<i32>> {
    let mut file = std::fs::File::open(path)?;
    let mut offset = 0;
    let mut stats = Stats::default();
    if !std::io::stdout().is_terminal() {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            stats.feed(&read_new(&mut file, &mut offset));
            let done = child_status(pid);
            println!("hijack top: {title}{}", done.map(|s| format!(" (exited {s})")).unwrap_or_default());
            for (name, lines) in stats.panels() {
                println!("== {name}");
                lines.iter().for_each(|l| println!("{l}"));
            }
            stats.tick();
            if done.is_some() {
                return Ok(done);
            }
        }
    }
    let mut terminal = ratatui::init();
    let mut exited = None;
    let result = (|| -> std::io::Result<Option<i32>> {
        loop {
            stats.feed(&read_new(&mut file, &mut offset));
            exited = exited.or_else(|| child_status(pid));
            let status = match exited {
                Some(s) => format!("exited with {s}; q quits"),
                None => "running; q quits (the command goes on)".to_string(),
            };
            let panels = stats.panels();
            terminal.draw(|f| {
                let rows = Layout::default()
                    .direction(Direction::Vertical)
                    .constraints([Constraint::Length(1), Constraint::Percentage(50), Constraint::Percentage(50)])
                    .split(f.area());
                f.render_widget(Paragraph::new(format!("hijack top: {title} ({status})")), rows[0]);
                let top = Layout::default()
                    .direction(Direction::Horizontal)
                    .constraints([Constraint::Percentage(40), Constraint::Percentage(30), Constraint::Percentage(30)])
                    .split(rows[1]);
                let bottom = Layout::default()
                    .direction(Direction::Horizontal)
                    .constraints([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .split(rows[2]);
                let areas = [top[0], top[1], top[2], bottom[0], bottom[1]];
                for ((name, lines), area) in panels.iter().zip(areas) {
                    let block = Block::default().borders(Borders::ALL).title(name.as_str());
                    f.render_widget(Paragraph::new(lines.join("\n")).block(block), area);
                }
            })?;
            let deadline = Instant::now() + Duration::from_secs(1);
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                if event::poll(left)? {
                    if let Event::Key(k) = event::read()? {
                        if k.code == KeyCode::Char('q') || k.code == KeyCode::Esc {
                            return Ok(exited);
                        }
                    }
                }
            }
            stats.tick();
        }
    })();
    ratatui::restore();
    let _ = terminal::disable_raw_mode();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_is_counted_per_file_and_lines_may_arrive_cut() {
        let mut s = Stats::default();
        let trace = concat!(
            r#"{"pid":1,"tid":1,"call":"open","args":{"path":"/data/a","flags":0,"mode":0},"result":3,"errno":null,"ns":10}"#,
            "\n",
            r#"{"pid":1,"tid":1,"call":"read","args":{"fd":3,"buf":"x","count":9},"result":9,"errno":null,"ns":500}"#,
            "\n",
            r#"{"pid":1,"tid":1,"call":"open","args":{"path":"/x","flags":0,"mode":0},"result":-1,"errno":"ENOENT","ns":5}"#,
            "\n"
        );
        let (a, b) = trace.split_at(60);
        s.feed(a);
        assert_eq!(s.total, 0, "half a line is kept for later");
        s.feed(b);
        assert_eq!((s.total, s.bytes_in, s.errors.get("ENOENT")), (3, 9, Some(&1)));
        assert_eq!(s.traffic.get("/data/a"), Some(&9));
        let panels = s.panels();
        assert!(panels[0].1.iter().any(|l| l.contains("open")));
        assert!(panels[4].1[0].contains("read"));
    }
}
