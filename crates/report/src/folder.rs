//! Replacing a folder atomically, and what an interruption leaves behind.
//!
//! A results folder (and a shard's partial folder) is written into a hidden temporary sibling,
//! `.NAME.tmp-PID`, which then takes the place of `NAME` ([`replace_dir`]). Three things make
//! sure nothing half-done survives, even when the run is stopped:
//!
//! - **The swap is one step where the system allows it.** On Linux,
//!   `renameat2(RENAME_EXCHANGE)` exchanges the finished folder and the old one in a single
//!   call: `NAME` is never absent. Elsewhere (or on a file system that refuses the exchange)
//!   the old folder is first moved aside to `.NAME.old-PID` and put back if the second rename
//!   fails: two steps, with a window in which `NAME` is missing.
//! - **SIGINT and SIGTERM clean up.** The first [`replace_dir`] of a process installs a
//!   handler (a thread waiting on tokio's signal streams; a signal handler proper may do
//!   nothing but set a flag). On a signal it notes it, waits for a swap in progress to finish
//!   — the swap holds the lock of the pending-folder list, and ends the process itself when it
//!   sees the note —, removes the process's temporary folders, puts a moved-aside folder back if `NAME` is missing, and exits with the shell's
//!   code for the signal (130, 143). From then on the process always exits this way on those
//!   signals, as it would have by default.
//! - **A later run removes leftovers of runs that were killed outright** (SIGKILL, power
//!   loss): before writing `NAME`, [`replace_dir`] removes every `.NAME.tmp-PID` and
//!   `.NAME.old-PID` beside it whose process is gone (the latter put back as `NAME` when `NAME`
//!   is missing); `cargo bench` (`hookbench::runner::run_all`) does so for every folder of the
//!   results root. A leftover of a
//!   process still running is left alone, as is any leftover on systems where hookbench cannot
//!   ask whether a process runs (non-Unix). A PID reused by an unrelated process keeps its
//!   leftover until that process ends.
//!
//! Readers never take a dot-folder for results: the index (`results/README.md`) and the README
//! generator skip folders whose name starts with `.` ([`is_hidden`]).
//!
//! Tests set `HOOKBENCH_TEST_SWAP_DELAY_MS` to hold the swap open (inside its critical
//! section) long enough to interrupt it at a known point; nothing else reads it.

use anyhow::Context;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

/// Environment variable, for tests only: milliseconds to sleep in the middle of a swap.
pub const SWAP_DELAY_ENV: &str = "HOOKBENCH_TEST_SWAP_DELAY_MS";

/// A folder being replaced: the temporary folder being filled, where the old one goes (or
/// comes back from) and the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    tmp: PathBuf,
    old: PathBuf,
    dir: PathBuf,
}

/// The folders this process is replacing right now. The swap holds this lock from its first
/// rename to its last, so the interrupt handler never sees a half-done swap.
static PENDING: Mutex<Vec<Pending>> = Mutex::new(Vec::new());

/// The exit code of the signal received (130 for SIGINT, 143 for SIGTERM), 0 before one.
static SIGNALLED: AtomicI32 = AtomicI32::new(0);

fn pending() -> MutexGuard<'static, Vec<Pending>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a folder (or file) name is hidden (`.git`, `.NAME.tmp-PID`): never results.
pub fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// Replaces the folder `dir` atomically with one that `fill` writes into a temporary sibling
/// (`.NAME.tmp-PID`; `fallback_name` when `dir` has no name): if `fill` fails, the temporary
/// folder is removed and `dir` is untouched; if the process is interrupted (SIGINT, SIGTERM),
/// the temporary folder is removed and `dir` holds either the old or the new folder. Results
/// folders and partial folders in `hookbench::shard` are written this way, so a failed or
/// stopped run never leaves half a folder. See the module documentation for the steps.
pub fn replace_dir(
    dir: &Path,
    fallback_name: &str,
    fill: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    install_interrupt_cleanup();
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| fallback_name.into());
    remove_leftovers(parent, Some(&base));
    let pid = std::process::id();
    let job = Pending {
        tmp: parent.join(format!(".{base}.tmp-{pid}")),
        old: parent.join(format!(".{base}.old-{pid}")),
        dir: dir.to_path_buf(),
    };
    let _ = fs::remove_dir_all(&job.tmp);
    pending().push(job.clone());
    let result = fs::create_dir(&job.tmp)
        .with_context(|| format!("creating {}", job.tmp.display()))
        .and_then(|()| fill(&job.tmp));
    let mut list = pending();
    let result = result.and_then(|()| swap_into_place(&job));
    if result.is_err() {
        let _ = fs::remove_dir_all(&job.tmp);
    }
    list.retain(|p| p != &job);
    // A signal arrived during the swap: the handler is waiting for this lock to clean up and
    // exit; do it here rather than let the run carry on as if it had not been stopped.
    let code = SIGNALLED.load(Ordering::SeqCst);
    if code != 0 {
        for job in list.iter() {
            recover(job);
        }
        std::process::exit(code);
    }
    result
}

/// The optional test delay inside a swap.
fn test_delay() {
    if let Some(ms) = std::env::var(SWAP_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Moves the finished folder `job.tmp` to `job.dir`, replacing what was there (called with
/// the pending list locked). With an old folder: one exchange where supported, after which
/// `job.tmp` holds the old folder and is removed; else the two-rename fallback.
fn swap_into_place(job: &Pending) -> anyhow::Result<()> {
    if fs::symlink_metadata(&job.dir).is_err() {
        test_delay();
        return fs::rename(&job.tmp, &job.dir)
            .with_context(|| format!("moving {} into place", job.dir.display()));
    }
    match exchange(&job.tmp, &job.dir) {
        Ok(true) => {
            test_delay();
            // `tmp` now holds the old folder.
            let _ = fs::remove_dir_all(&job.tmp);
            Ok(())
        }
        Ok(false) => swap_by_renames(job),
        Err(e) => Err(e).with_context(|| format!("replacing {}", job.dir.display())),
    }
}

/// The fallback: the old folder aside to `job.old`, the new one in, the old one removed; the
/// old one put back if the second rename fails.
fn swap_by_renames(job: &Pending) -> anyhow::Result<()> {
    fs::rename(&job.dir, &job.old)
        .with_context(|| format!("moving aside {}", job.dir.display()))?;
    test_delay();
    if let Err(e) = fs::rename(&job.tmp, &job.dir) {
        let _ = fs::rename(&job.old, &job.dir);
        return Err(e).with_context(|| format!("replacing {}", job.dir.display()));
    }
    let _ = fs::remove_dir_all(&job.old);
    Ok(())
}

/// Exchanges `a` and `b` in one step: `Ok(true)` when done, `Ok(false)` when this system or
/// file system cannot (the caller falls back to two renames).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call; AT_FDCWD
    // makes them relative to the working directory, as `std::fs::rename` does.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        // No renameat2 (old kernel) or no exchange on this file system.
        Some(libc::ENOSYS) | Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e),
    }
}

/// Exchanges `a` and `b` in one step: not available here, the caller falls back.
#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// Undoes what an interrupted replacement left: `dir` back from `old` when it is missing, the
/// temporary and moved-aside folders removed.
fn recover(job: &Pending) {
    if fs::symlink_metadata(&job.dir).is_err() && job.old.is_dir() {
        let _ = fs::rename(&job.old, &job.dir);
    }
    remove_while_written(&job.tmp);
    let _ = fs::remove_dir_all(&job.old);
}

/// Removes a temporary folder that the run may still be filling from another thread (the
/// signal handler runs while `fill` goes on). `remove_dir_all` alone can lose that race: a
/// file created between its listing and its last `rmdir` leaves the folder behind, and a
/// writer's `create_dir_all` (the `charts/` folder) creates the folder itself again. So the
/// folder is first renamed away (`….gone`), and a plain file takes its name: from then on
/// every write under the old path fails (not a directory), and nothing can create the folder
/// again. What was renamed only shrinks, and is removed; the file goes last, just before the
/// caller exits (`tests/interrupt.rs` signals a run in the middle of filling).
fn remove_while_written(tmp: &Path) {
    let mut gone = Vec::new();
    let mut blocker = false;
    for k in 0..10 {
        if !tmp.is_dir() {
            // Nothing there (or the blocker already is): take the name with a file.
            blocker = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(tmp)
                .is_ok();
            if blocker || !tmp.is_dir() {
                break;
            }
        }
        let mut doomed = tmp.as_os_str().to_owned();
        doomed.push(format!(".gone{k}"));
        let doomed = PathBuf::from(doomed);
        if fs::rename(tmp, &doomed).is_ok() {
            gone.push(doomed);
        } else {
            // Could not rename: remove in place, as well as can be.
            let _ = fs::remove_dir_all(tmp);
        }
    }
    for dir in &gone {
        for _ in 0..10 {
            if fs::remove_dir_all(dir).is_ok() || !dir.exists() {
                break;
            }
        }
    }
    if blocker {
        let _ = fs::remove_file(tmp);
    }
}

/// What a hidden leftover name says: `(NAME, is_old, PID)` for `.NAME.tmp-PID` and
/// `.NAME.old-PID`.
fn parse_leftover(name: &str) -> Option<(&str, bool, u32)> {
    let rest = name.strip_prefix('.')?;
    let (head, pid) = rest.rsplit_once('-')?;
    let pid: u32 = pid.parse().ok().filter(|&p| p > 0)?;
    if let Some(base) = head.strip_suffix(".tmp") {
        Some((base, false, pid))
    } else {
        head.strip_suffix(".old").map(|base| (base, true, pid))
    }
    .filter(|(base, _, _)| !base.is_empty())
}

/// Whether process `pid` may still be running (`true` when this system cannot tell).
#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: signal 0 sends nothing; it only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}

/// Removes the leftovers of interrupted runs in `parent` whose process is gone, putting a
/// moved-aside folder back when its folder is missing: those of folder `only` when given (what
/// [`replace_dir`] does: `parent` may be any folder, such as `/tmp`, where another program's
/// hidden names are none of hookbench's business), else every one (the results root, which
/// `cargo bench` owns). Returns the names removed or restored. This process's own leftovers
/// are its business (another thread may be filling one).
pub fn remove_leftovers(parent: &Path, only: Option<&str>) -> Vec<String> {
    let me = std::process::id();
    let mut done = Vec::new();
    let Ok(entries) = fs::read_dir(parent) else {
        return done;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let Some((base, is_old, pid)) = parse_leftover(&name) else {
            continue;
        };
        if only.is_some_and(|o| o != base) || pid == me || process_alive(pid) {
            continue;
        }
        let path = parent.join(&name);
        let dir = parent.join(base);
        if is_old && fs::symlink_metadata(&dir).is_err() && fs::rename(&path, &dir).is_ok() {
            done.push(name);
            continue;
        }
        if fs::remove_dir_all(&path).is_ok() {
            done.push(name);
        }
    }
    done
}

/// Installs, once per process, the SIGINT/SIGTERM handler that cleans up pending folders and
/// exits (see the module documentation). Returns when the handler is in place.
pub fn install_interrupt_cleanup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("hookbench-interrupt".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    let _ = ready_tx.send(());
                    return;
                };
                rt.block_on(async move {
                    let code = wait_for_signal(ready_tx).await;
                    if let Some(code) = code {
                        SIGNALLED.store(code, Ordering::SeqCst);
                        let list = pending();
                        for job in list.iter() {
                            recover(job);
                        }
                        std::process::exit(code);
                    }
                });
            });
        if spawned.is_ok() {
            let _ = ready_rx.recv();
        }
    });
}

/// Waits for SIGINT or SIGTERM (telling `ready` once listening) and returns the exit code the
/// shell gives a process killed by it; `None` when no handler could be installed.
#[cfg(unix)]
async fn wait_for_signal(ready: std::sync::mpsc::Sender<()>) -> Option<i32> {
    use tokio::signal::unix::{signal, SignalKind};
    let streams =
        signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
    let _ = ready.send(());
    let (mut int, mut term) = streams.ok()?;
    tokio::select! {
        _ = int.recv() => Some(130),
        _ = term.recv() => Some(143),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal(ready: std::sync::mpsc::Sender<()>) -> Option<i32> {
    let ctrl_c = tokio::signal::ctrl_c();
    let _ = ready.send(());
    ctrl_c.await.ok().map(|()| 130)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_names() {
        assert_eq!(parse_leftover(".a-b.tmp-7481"), Some(("a-b", false, 7481)));
        assert_eq!(parse_leftover(".x.y.old-12"), Some(("x.y", true, 12)));
        assert_eq!(parse_leftover("a.tmp-12"), None);
        assert_eq!(parse_leftover(".a.tmp-"), None);
        assert_eq!(parse_leftover(".a.tmp-0"), None);
        assert_eq!(parse_leftover(".tmp-12"), None);
        assert_eq!(parse_leftover(".git"), None);
        assert_eq!(parse_leftover(".a.new-12"), None);
        assert!(is_hidden(".a.tmp-1".as_ref()) && !is_hidden("a".as_ref()));
    }

    /// A PID no process has: above the kernel's maximum (4,194,304 on Linux).
    const GONE: u32 = 99_999_999;

    #[test]
    fn leftovers_of_gone_processes_are_removed_and_a_missing_folder_is_put_back() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        for d in [
            format!(".sweep.tmp-{GONE}"),
            format!(".kept.old-{GONE}"),
            format!(".lost.old-{GONE}"),
            "kept".to_string(),
            format!(".mine.tmp-{}", std::process::id()),
            ".git".to_string(),
        ] {
            fs::create_dir(p.join(&d)).unwrap();
        }
        fs::write(p.join(format!(".lost.old-{GONE}/summary.csv")), "old\n").unwrap();
        // Only those of one folder …
        assert_eq!(
            remove_leftovers(p, Some("sweep")),
            [format!(".sweep.tmp-{GONE}")]
        );
        // … or all.
        let done = remove_leftovers(p, None);
        assert_eq!(done.len(), 2, "{done:?}");
        let mut left: Vec<String> = fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mine = format!(".mine.tmp-{}", std::process::id());
        assert_eq!(left, [".git", mine.as_str(), "kept", "lost"]);
        assert_eq!(
            fs::read_to_string(p.join("lost/summary.csv")).unwrap(),
            "old\n"
        );
    }

    #[test]
    fn recovery_after_either_half_of_the_fallback_swap() {
        let t = tempfile::tempdir().unwrap();
        let job = Pending {
            tmp: t.path().join(".r.tmp-1"),
            old: t.path().join(".r.old-1"),
            dir: t.path().join("r"),
        };
        // Interrupted between the renames: the folder is aside, the new one not yet in.
        fs::create_dir(&job.old).unwrap();
        fs::create_dir(&job.tmp).unwrap();
        fs::write(job.old.join("f"), "old").unwrap();
        recover(&job);
        assert_eq!(fs::read_to_string(job.dir.join("f")).unwrap(), "old");
        assert!(!job.tmp.exists() && !job.old.exists());
        // Interrupted after both: the new folder in, the old one not yet removed.
        fs::create_dir(&job.old).unwrap();
        recover(&job);
        assert_eq!(fs::read_to_string(job.dir.join("f")).unwrap(), "old");
        assert!(!job.old.exists());
    }

    #[test]
    fn replacing_swaps_contents_and_leaves_nothing_hidden() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("res");
        for text in ["one", "two"] {
            replace_dir(&dir, "x", |tmp| Ok(fs::write(tmp.join("f"), text)?)).unwrap();
            assert_eq!(fs::read_to_string(dir.join("f")).unwrap(), text);
        }
        let e = replace_dir(&dir, "x", |_| anyhow::bail!("no")).unwrap_err();
        assert_eq!(e.to_string(), "no");
        assert_eq!(fs::read_to_string(dir.join("f")).unwrap(), "two");
        let names: Vec<_> = fs::read_dir(t.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        // The fallback swap does the same.
        let job = Pending {
            tmp: t.path().join(".res.tmp-1"),
            old: t.path().join(".res.old-1"),
            dir: dir.clone(),
        };
        fs::create_dir(&job.tmp).unwrap();
        fs::write(job.tmp.join("f"), "three").unwrap();
        swap_by_renames(&job).unwrap();
        assert_eq!(fs::read_to_string(dir.join("f")).unwrap(), "three");
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 1);
    }
}
