//! hijack-release: writes reproducible release archives.
//!
//!     hijack-release --version V --out DIR --mtime EPOCH \
//!         --target NAME=STAGING_DIR [--target ...] \
//!         --file README.md --file LICENSE --dir examples
//!
//! For each target, `hijack-V-NAME.tar.gz` and `hijack-V-NAME.zip` hold, under
//! `hijack-V-NAME/`, every file of STAGING_DIR (bin/, lib/) and the shared
//! files and directories. Entries are sorted, timestamps are EPOCH, owners
//! are 0, modes are 0755 for executables and 0644 otherwise, and gzip
//! carries no name or time: the same inputs give byte-identical archives.
//! `SHA256SUMS` lists every archive written.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One archive's entries: archive path -> (contents, executable).
type Entries = BTreeMap<String, (Vec<u8>, bool)>;

#[derive(Debug)]
struct Options {
    version: String,
    out: PathBuf,
    mtime: u64,
    targets: Vec<(String, PathBuf)>,
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

fn usage() -> String {
    "usage: hijack-release --version V --out DIR --mtime EPOCH --target NAME=DIR... [--file F]... [--dir D]...".into()
}

fn parse(args: Vec<String>) -> Result<Options, String> {
    let mut o = Options { version: String::new(), out: PathBuf::new(), mtime: 0, targets: vec![], files: vec![], dirs: vec![] };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value\n{}", usage()));
        match flag.as_str() {
            "--version" => o.version = value()?,
            "--out" => o.out = value()?.into(),
            "--mtime" => o.mtime = value()?.parse().map_err(|_| "--mtime takes seconds since 1970".to_string())?,
            "--target" => {
                let v = value()?;
                let (name, dir) = v.split_once('=').ok_or("--target takes NAME=DIR")?;
                o.targets.push((name.to_string(), dir.into()));
            }
            "--file" => o.files.push(value()?.into()),
            "--dir" => o.dirs.push(value()?.into()),
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unknown option {other}\n{}", usage())),
        }
    }
    if o.version.is_empty() || o.out.as_os_str().is_empty() || o.targets.is_empty() {
        return Err(usage());
    }
    Ok(o)
}

fn is_executable(path: &Path) -> io::Result<bool> {
    Ok(fs::metadata(path)?.permissions().mode() & 0o111 != 0)
}

/// Adds every file under `dir` as `prefix/<relative path>`.
fn add_tree(entries: &mut Entries, dir: &Path, prefix: &str) -> io::Result<()> {
    let mut children: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    children.sort_by_key(|e| e.file_name());
    for child in children {
        let path = child.path();
        let name = format!("{prefix}/{}", child.file_name().to_string_lossy());
        if child.file_type()?.is_dir() {
            add_tree(entries, &path, &name)?;
        } else {
            entries.insert(name, (fs::read(&path)?, is_executable(&path)?));
        }
    }
    Ok(())
}

fn entries_for(o: &Options, root: &str, staging: &Path) -> io::Result<Entries> {
    let mut entries = Entries::new();
    add_tree(&mut entries, staging, root)?;
    for f in &o.files {
        let name = f.file_name().ok_or_else(|| io::Error::other(format!("{}: not a file", f.display())))?;
        entries.insert(format!("{root}/{}", name.to_string_lossy()), (fs::read(f)?, is_executable(f)?));
    }
    for d in &o.dirs {
        let name = d.file_name().ok_or_else(|| io::Error::other(format!("{}: not a directory", d.display())))?;
        add_tree(&mut entries, d, &format!("{root}/{}", name.to_string_lossy()))?;
    }
    Ok(entries)
}

fn mode(executable: bool) -> u32 {
    if executable {
        0o755
    } else {
        0o644
    }
}

pub fn tar_gz(entries: &Entries, mtime: u64) -> io::Result<Vec<u8>> {
    let gz = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (name, (data, exe)) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode(*exe));
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, data.as_slice())?;
    }
    tar.into_inner()?.finish()
}

pub fn zip(entries: &Entries, mtime: u64) -> io::Result<Vec<u8>> {
    let time = zip_time(mtime);
    let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    for (name, (data, exe)) in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(time)
            .unix_permissions(mode(*exe));
        w.start_file(name.as_str(), options).map_err(io::Error::other)?;
        w.write_all(data)?;
    }
    Ok(w.finish().map_err(io::Error::other)?.into_inner())
}

/// A zip timestamp (local time fields, 1980..2107) for seconds since 1970 UTC.
fn zip_time(epoch: u64) -> zip::DateTime {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    zip::DateTime::from_date_and_time(
        year.clamp(1980, 2107),
        month,
        day,
        (secs / 3600) as u8,
        (secs % 3600 / 60) as u8,
        (secs % 60) as u8,
    )
    .unwrap_or_default()
}

fn run(o: &Options) -> io::Result<()> {
    fs::create_dir_all(&o.out)?;
    let mut sums = String::new();
    for (target, staging) in &o.targets {
        let root = format!("hijack-{}-{target}", o.version);
        let entries = entries_for(o, &root, staging)?;
        for (ext, bytes) in [("tar.gz", tar_gz(&entries, o.mtime)?), ("zip", zip(&entries, o.mtime)?)] {
            let name = format!("{root}.{ext}");
            fs::write(o.out.join(&name), &bytes)?;
            let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
            sums.push_str(&format!("{digest}  {name}\n"));
            println!("{}", o.out.join(&name).display());
        }
    }
    fs::write(o.out.join("SHA256SUMS"), sums)?;
    println!("{}", o.out.join("SHA256SUMS").display());
    Ok(())
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1).collect()) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("hijack-release: {msg}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hijack-release: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entries {
        let mut e = Entries::new();
        e.insert("hijack-1-x/bin/hijack".into(), (b"\x7fELF...".to_vec(), true));
        e.insert("hijack-1-x/README.md".into(), (b"# hijack\n".to_vec(), false));
        e
    }

    #[test]
    fn the_same_entries_give_byte_identical_archives() {
        assert_eq!(tar_gz(&sample(), 946_684_800).unwrap(), tar_gz(&sample(), 946_684_800).unwrap());
        assert_eq!(zip(&sample(), 946_684_800).unwrap(), zip(&sample(), 946_684_800).unwrap());
        assert_ne!(tar_gz(&sample(), 946_684_800).unwrap(), tar_gz(&sample(), 0).unwrap());
    }

    #[test]
    fn tar_entries_keep_order_modes_and_time() {
        let bytes = tar_gz(&sample(), 946_684_800).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let got: Vec<(String, u32, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (e.path().unwrap().display().to_string(), h.mode().unwrap(), h.mtime().unwrap())
            })
            .collect();
        assert_eq!(
            got,
            [
                ("hijack-1-x/README.md".to_string(), 0o644, 946_684_800),
                ("hijack-1-x/bin/hijack".to_string(), 0o755, 946_684_800)
            ]
        );
    }

    #[test]
    fn zip_times_are_civil_dates() {
        // (zip keeps seconds in steps of two)
        let t = zip_time(946_684_800 + 3_724); // 2000-01-01 01:02:04
        assert_eq!((t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second()), (2000, 1, 1, 1, 2, 4));
        let leap = zip_time(951_782_400); // 2000-02-29 00:00:00
        assert_eq!((leap.year(), leap.month(), leap.day()), (2000, 2, 29));
    }

    #[test]
    fn bad_options_are_refused_with_usage() {
        assert!(parse(vec!["--target".into(), "x".into()]).is_err());
        assert!(parse(vec!["--bogus".into()]).unwrap_err().contains("unknown option --bogus"));
    }
}
