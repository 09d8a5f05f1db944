//! Where `listen` keeps what it captured: an index in memory, the requests on disk
//! (issue #16).
//!
//! Why: holding every body in memory made 300 bodies of 1 MiB cost 420 MB, and one unpaged
//! listing built a 419 MB answer while holding the lock every delivery needs. Now each
//! request is one line of a JSON Lines file — the `--capture` file, or without it a spool
//! file in a fresh temporary folder removed when `listen` stops — and memory holds only
//! its [`Summary`] and where its line is (offset and length). A page of the API is a list of
//! line positions taken under the lock in microseconds, then read from the file outside it.
//!
//! Why whole lines or nothing ([`LineWriter`]): on a full disk a write can stop in the middle
//! of a line, and the next line appended after it would corrupt the capture for good. A
//! failed append cuts the file back to its last whole line (or, if even that fails, before
//! the next append); the request is then answered 5xx so its sender retries, and counted.
//!
//! Continuing a capture ([`Store::open_capture`]) reads it once: ids must be strictly
//! increasing (a concatenated or reordered capture is refused with its file, line and both
//! ids), a last line cut short by a crash or a full disk (no newline, not a whole request)
//! is dropped with a warning saying how many bytes, and anything else malformed is refused
//! with its location.

use super::capture;
use super::listen::Summary;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Something a capture is appended to: a file, or in tests a disk that fills up.
pub trait Sink: Write + Send {
    /// Cuts the sink to `len` bytes.
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}

impl Sink for File {
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        File::set_len(self, len)
    }
}

/// Appends lines to a [`Sink`] so that it only ever ends with a whole line.
pub struct LineWriter {
    sink: Box<dyn Sink>,
    /// Bytes of whole lines in the sink.
    len: u64,
    /// A failed append left part of a line that could not be cut off yet.
    dirty: bool,
}

impl LineWriter {
    /// A writer appending to `sink`, which holds `len` bytes of whole lines.
    pub fn new(sink: Box<dyn Sink>, len: u64) -> LineWriter {
        LineWriter {
            sink,
            len,
            dirty: false,
        }
    }

    /// Appends `line` (ending in its newline) and returns its offset; on error nothing of it
    /// stays in the sink (cut now, or before the next append if cutting fails too).
    pub fn append(&mut self, line: &[u8]) -> io::Result<u64> {
        if self.dirty {
            self.sink.set_len(self.len).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot cut a partly written line off the capture: {e}"),
                )
            })?;
            self.dirty = false;
        }
        let mut written = 0;
        let result = loop {
            if written == line.len() {
                break self.sink.flush();
            }
            match self.sink.write(&line[written..]) {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        match result {
            Ok(()) => {
                let at = self.len;
                self.len += line.len() as u64;
                Ok(at)
            }
            Err(e) => {
                if written > 0 {
                    self.dirty = self.sink.set_len(self.len).is_err();
                }
                Err(e)
            }
        }
    }

    /// Bytes of whole lines written.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Where one request's line is, and what the page lists of it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What the page lists.
    pub summary: Summary,
    /// Offset of the line in the file, bytes.
    pub offset: u64,
    /// Length of the line without its newline, bytes.
    pub len: u64,
}

/// The removed-at-exit folder of a spool file.
struct SpoolDir(PathBuf);

impl Drop for SpoolDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The requests of one `listen`: index in memory, lines on disk.
pub struct Store {
    path: PathBuf,
    writer: LineWriter,
    entries: Vec<Entry>,
    next_id: u64,
    failures: u64,
    _spool: Option<SpoolDir>,
}

/// The start of every line as [`Captured::to_line`](capture::Captured::to_line) writes it
/// for id 0 (`id` is the first field).
pub const ID0: &str = "{\"id\":0,";

impl Store {
    /// Opens `path` to append to, continuing the capture already there. Returns the store and
    /// the warnings to show (a cut last line dropped). Errors name the file and line.
    pub fn open_capture(path: &Path) -> Result<(Store, Vec<String>), String> {
        let (entries, warnings) = if path.is_file() {
            load(path)?
        } else {
            (Vec::new(), Vec::new())
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                format!(
                    "{}: cannot open the capture for appending: {e}",
                    path.display()
                )
            })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let next_id = entries.last().map_or(1, |e| e.summary.id + 1);
        Ok((
            Store {
                path: path.to_path_buf(),
                writer: LineWriter::new(Box::new(file), len),
                entries,
                next_id,
                failures: 0,
                _spool: None,
            },
            warnings,
        ))
    }

    /// A store in a spool file of a new temporary folder, removed when the store is dropped.
    pub fn spool() -> io::Result<Store> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("hookbench-listen-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir)?;
        let guard = SpoolDir(dir.clone());
        let path = dir.join("requests.jsonl");
        let file = std::fs::OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        Ok(Store {
            path,
            writer: LineWriter::new(Box::new(file), 0),
            entries: Vec::new(),
            next_id: 1,
            failures: 0,
            _spool: Some(guard),
        })
    }

    /// The file the lines are in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a request, given its line as written for id 0 (starting with [`ID0`], no
    /// newline) and its summary; gives it the next id and returns that id. A failed write
    /// leaves no trace in the file and is counted in [`Store::failures`].
    pub fn append(&mut self, line0: &str, mut summary: Summary) -> io::Result<u64> {
        let id = self.next_id;
        let result = if id == u64::MAX {
            Err(io::Error::other(
                "no id left for another request in this capture",
            ))
        } else {
            let rest = line0.strip_prefix(ID0).expect("lines start with the id");
            let line = format!("{{\"id\":{id},{rest}\n");
            self.writer
                .append(line.as_bytes())
                .map(|at| (at, line.len() as u64 - 1))
        };
        match result {
            Ok((offset, len)) => {
                summary.id = id;
                self.entries.push(Entry {
                    summary,
                    offset,
                    len,
                });
                self.next_id += 1;
                Ok(id)
            }
            Err(e) => {
                self.failures += 1;
                Err(e)
            }
        }
    }

    /// Requests stored, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Requests that could not be written.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Where request `id`'s line is.
    pub fn locate(&self, id: u64) -> Option<(u64, u64)> {
        self.entries
            .binary_search_by_key(&id, |e| e.summary.id)
            .ok()
            .map(|i| (self.entries[i].offset, self.entries[i].len))
    }

    /// Up to `limit` requests after id `after` (from the first without it): their lines'
    /// positions and, when more follow, the `after` of the next page.
    pub fn page(&self, after: Option<u64>, limit: usize) -> (Vec<(u64, u64)>, Option<u64>) {
        let start = after.map_or(0, |a| self.entries.partition_point(|e| e.summary.id <= a));
        let end = start.saturating_add(limit).min(self.entries.len());
        let spans = self.entries[start..end]
            .iter()
            .map(|e| (e.offset, e.len))
            .collect();
        let next =
            (end < self.entries.len() && end > start).then(|| self.entries[end - 1].summary.id);
        (spans, next)
    }
}

/// Reads the lines at `spans` (offset, length) of `path` in order, calling `each` with each.
/// Lines are appended and never rewritten, so reading needs no lock.
pub fn read_lines(
    path: &Path,
    spans: &[(u64, u64)],
    mut each: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut r = BufReader::with_capacity(256 * 1024, File::open(path)?);
    let mut pos = 0u64;
    let mut buf = Vec::new();
    for &(offset, len) in spans {
        if offset != pos {
            r.seek_relative(offset as i64 - pos as i64)?;
        }
        buf.resize(len as usize, 0);
        r.read_exact(&mut buf)?;
        pos = offset + len;
        each(&buf)?;
    }
    Ok(())
}

/// Reads request `id`'s line at `span` of `path`.
pub fn read_one(path: &Path, span: (u64, u64)) -> Result<capture::Captured, String> {
    let mut out = Err(String::new());
    read_lines(path, &[span], |line| {
        out = std::str::from_utf8(line)
            .map_err(|e| e.to_string())
            .and_then(|l| capture::parse_line(path, 0, l));
        Ok(())
    })
    .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    out
}

/// Reads an existing capture into an index (see the module docs for what is refused).
fn load(path: &Path) -> Result<(Vec<Entry>, Vec<String>), String> {
    let show = path.display();
    let mut r = BufReader::with_capacity(
        256 * 1024,
        File::open(path).map_err(|e| format!("{show}: cannot read the capture: {e}"))?,
    );
    let mut entries: Vec<Entry> = Vec::new();
    let mut warnings = Vec::new();
    let mut last: Option<(u64, usize)> = None;
    let mut buf = Vec::new();
    let mut offset = 0u64;
    let mut n = 0usize;
    // What to do to the file's end: cut a partial line off, or end a whole one.
    let mut cut_at = None;
    let mut add_newline = false;
    loop {
        buf.clear();
        let k = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("{show}:{}: cannot read: {e}", n + 1))?;
        if k == 0 {
            break;
        }
        n += 1;
        let whole = buf.ends_with(b"\n");
        let mut line = if whole { &buf[..k - 1] } else { &buf[..] };
        if line.ends_with(b"\r") {
            line = &line[..line.len() - 1];
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            offset += k as u64;
            continue;
        }
        let parsed = std::str::from_utf8(line)
            .map_err(|e| format!("{show}:{n}: not UTF-8 ({e})"))
            .and_then(|text| capture::parse_line(path, n, text));
        let c = match parsed {
            Ok(c) => c,
            Err(_) if !whole => {
                warnings.push(format!(
                    "{show}:{n}: dropped the last line, cut short ({k} bytes without a newline, \
                     as a crash or a full disk leaves it)"
                ));
                cut_at = Some(offset);
                break;
            }
            Err(e) => return Err(e),
        };
        if !whole {
            add_newline = true;
        }
        if let Some((prev, prev_line)) = last {
            if c.id <= prev {
                return Err(format!(
                    "{show}:{n}: id {} after id {prev} (line {prev_line}); ids in a capture must be \
                     strictly increasing (was it concatenated or edited?); continue in a new file",
                    c.id
                ));
            }
        }
        if c.id == u64::MAX {
            return Err(format!(
                "{show}:{n}: id {} is the largest possible, no id is left for the next request; \
                 continue in a new file",
                c.id
            ));
        }
        last = Some((c.id, n));
        entries.push(Entry {
            summary: Summary::of(&c),
            offset,
            len: line.len() as u64,
        });
        offset += k as u64;
    }
    if cut_at.is_some() || add_newline {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("{show}: cannot repair the capture's end: {e}"))?;
        let fixed = match cut_at {
            Some(at) => f.set_len(at),
            None => f.write_all(b"\n"),
        };
        fixed.map_err(|e| format!("{show}: cannot repair the capture's end: {e}"))?;
    }
    Ok((entries, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A disk with `room` bytes: writes stop part-way when it fills (as `write(2)` does).
    #[derive(Clone)]
    struct SmallDisk {
        data: Arc<Mutex<Vec<u8>>>,
        room: usize,
    }

    impl Write for SmallDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut d = self.data.lock().unwrap();
            let n = buf.len().min(self.room - d.len());
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"));
            }
            d.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Sink for SmallDisk {
        fn set_len(&mut self, len: u64) -> io::Result<()> {
            self.data.lock().unwrap().truncate(len as usize);
            Ok(())
        }
    }

    /// Issue #16 defect 3: 40 bodies on a disk with room for a few KB: the ones that fit are
    /// whole lines, the others fail (and are counted by the caller), nothing is cut.
    #[test]
    fn a_full_disk_keeps_whole_lines_only() {
        let disk = SmallDisk {
            data: Arc::new(Mutex::new(Vec::new())),
            room: 4000,
        };
        let mut w = LineWriter::new(Box::new(disk.clone()), 0);
        let mut ok = 0;
        let mut failed = 0;
        for i in 0..40 {
            let line = format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(290));
            match w.append(line.as_bytes()) {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
        }
        assert_eq!(ok + failed, 40);
        assert!(ok > 5 && failed > 5, "{ok} {failed}");
        let data = disk.data.lock().unwrap().clone();
        assert!(data.ends_with(b"\n"));
        assert_eq!(data.len() as u64, w.len());
        let lines: Vec<_> = data
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), ok);
        for l in lines {
            serde_json::from_slice::<serde_json::Value>(l).unwrap();
        }
    }
}
