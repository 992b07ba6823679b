//! The cache lock: one process at a time uses a cache directory.
//!
//! The lock is an exclusive `flock` (through `fs4`) on `<cache>/lock`, which is never deleted (a
//! deleted lock file would let two processes lock two different files). The kernel drops the lock
//! when its holder exits for any reason, SIGKILL included, so a lock is never stale; only the
//! sidecar `<cache>/lock.holder` (JSON: pid, command line, time, host), which says *who* holds it,
//! can be. A waiting process treats a sidecar naming a dead local pid, or an unreadable one, as
//! [`Holder::Unknown`]; the next holder replaces it atomically, and a holder removes it on release.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::durable::{ensure_dir, TempFile};
use super::error::{CacheError, Result};

/// File name of the lock inside the cache directory.
pub const LOCK_FILE: &str = "lock";
/// File name of the holder sidecar inside the cache directory.
pub const HOLDER_FILE: &str = "lock.holder";

/// How long a fresh holder may take to write its sidecar before a waiter reports it as unknown.
const SIDECAR_GRACE: Duration = Duration::from_millis(500);
const FIRST_POLL: Duration = Duration::from_millis(20);
const MAX_POLL: Duration = Duration::from_millis(250);

/// What to do when another process holds the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockPolicy {
    /// Wait until it is released (the default of `tulu run`).
    Wait,
    /// Fail at once with [`CacheError::Locked`] naming the holder (`--no-wait`).
    NoWait,
}

/// Who holds a cache, as its sidecar says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A process that recorded itself.
    Process {
        /// Its process id.
        pid: u32,
        /// Its command line, e.g. `tulu run recipe.tulu`.
        command: String,
        /// When it took the lock (seconds since the Unix epoch).
        since_unix: u64,
        /// The host it runs on (the cache may live on a shared filesystem).
        host: String,
    },
    /// The holder has not recorded itself (yet), or its record is stale or unreadable.
    Unknown,
}

impl fmt::Display for Holder {
    /// `` `tulu run recipe.tulu` (pid 4242, since 12:01:03) ``, with ` on HOST` when remote.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Process {
                pid,
                command,
                since_unix,
                host,
            } => {
                write!(
                    f,
                    "`{command}` (pid {pid}, since {}",
                    format_local_time(*since_unix)
                )?;
                if *host != local_host_name() {
                    write!(f, ", on {host}")?;
                }
                f.write_str(")")
            }
            Holder::Unknown => f.write_str("another process (it has not recorded which)"),
        }
    }
}

/// The line to show while waiting: `waiting for the cache at DIR: held by HOLDER`.
pub fn waiting_message(cache_dir: &Path, holder: &Holder) -> String {
    format!(
        "waiting for the cache at {}: held by {holder}",
        cache_dir.display()
    )
}

/// The sidecar's on-disk form.
#[derive(Serialize, Deserialize)]
struct HolderRecord {
    pid: u32,
    command: String,
    since_unix: u64,
    host: String,
}

/// An acquired cache lock; dropping it releases the cache.
#[derive(Debug)]
pub struct CacheLock {
    file: File,
    dir: PathBuf,
}

impl CacheLock {
    /// Takes the lock of the cache directory `dir` (created if missing). When another process
    /// holds it: under [`LockPolicy::NoWait`] fails with [`CacheError::Locked`]; under
    /// [`LockPolicy::Wait`] calls `on_wait` with the holder (again whenever the holder changes)
    /// and returns once the lock is free.
    pub fn acquire(
        dir: &Path,
        policy: LockPolicy,
        mut on_wait: impl FnMut(&Holder),
    ) -> Result<CacheLock> {
        std::fs::create_dir_all(dir).map_err(CacheError::io("create directory", dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(CacheError::io("open lock file", &lock_path))?;

        if try_lock(&file, &lock_path)? {
            return CacheLock::take(file, dir);
        }
        let waiting_since = Instant::now();
        let mut reported: Option<Holder> = None;
        let mut poll = FIRST_POLL;
        loop {
            let holder = read_holder(dir);
            let settled = holder != Holder::Unknown || waiting_since.elapsed() >= SIDECAR_GRACE;
            match policy {
                LockPolicy::NoWait if settled => {
                    return Err(CacheError::Locked {
                        dir: dir.to_path_buf(),
                        holder,
                    });
                }
                LockPolicy::Wait if settled && reported.as_ref() != Some(&holder) => {
                    on_wait(&holder);
                    reported = Some(holder);
                }
                _ => {}
            }
            std::thread::sleep(poll);
            poll = (poll * 2).min(MAX_POLL);
            if try_lock(&file, &lock_path)? {
                return CacheLock::take(file, dir);
            }
        }
    }

    fn take(file: File, dir: &Path) -> Result<CacheLock> {
        let lock = CacheLock {
            file,
            dir: dir.to_path_buf(),
        };
        let record = HolderRecord {
            pid: std::process::id(),
            command: current_command_line(),
            since_unix: unix_now(),
            host: local_host_name(),
        };
        let bytes = serde_json::to_vec(&record).map_err(|source| CacheError::Encode {
            what: "the lock holder record",
            source,
        })?;
        let temp_dir = dir.join("tmp");
        ensure_dir(&temp_dir)?;
        // Atomic but not flushed: the record only matters while this process lives, and flushing
        // it cost every command two disk syncs.
        let mut temp = TempFile::create(&temp_dir, "holder")?;
        temp.write_all(&bytes)?;
        temp.rename_unsynced(&dir.join(HOLDER_FILE))?;
        Ok(lock)
    }

    /// The locked cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for CacheLock {
    fn drop(&mut self) {
        // Remove the sidecar while still holding the lock, so it never names a process that has
        // already let go.
        let _ = std::fs::remove_file(self.dir.join(HOLDER_FILE));
        let _ = fs4::fs_std::FileExt::unlock(&self.file);
    }
}

fn try_lock(file: &File, path: &Path) -> Result<bool> {
    fs4::fs_std::FileExt::try_lock_exclusive(file).map_err(CacheError::io("lock", path))
}

/// The holder named by the sidecar, or [`Holder::Unknown`] if it is missing, unreadable, or
/// names a local process that no longer exists.
fn read_holder(dir: &Path) -> Holder {
    let Ok(bytes) = std::fs::read(dir.join(HOLDER_FILE)) else {
        return Holder::Unknown;
    };
    let Ok(record) = serde_json::from_slice::<HolderRecord>(&bytes) else {
        return Holder::Unknown;
    };
    if record.host == local_host_name() && !process_is_alive(record.pid) {
        return Holder::Unknown;
    }
    Holder::Process {
        pid: record.pid,
        command: record.command,
        since_unix: record.since_unix,
        host: record.host,
    }
}

fn process_is_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        // kill(0, …) and kill(-1, …) address groups, not a process.
        return false;
    }
    // SAFETY: signal 0 only checks whether the process exists and may be signalled.
    let status = unsafe { libc::kill(pid, 0) };
    status == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn local_host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname NUL-terminates within it or
    // truncates, and we stop at the first NUL or the end.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return String::from("localhost");
    }
    let end = buffer
        .iter()
        .position(|byte| *byte == 0)
        .unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

/// This process's command line with the program reduced to its file name and arguments quoted
/// where a shell would need it: `tulu run 'my recipe.tulu'`.
fn current_command_line() -> String {
    let mut words = Vec::new();
    for (index, argument) in std::env::args_os().enumerate() {
        let text = if index == 0 {
            Path::new(&argument)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_else(|| argument.to_string_lossy().into_owned())
        } else {
            argument.to_string_lossy().into_owned()
        };
        words.push(shell_quote(&text));
    }
    words.join(" ")
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

/// `HH:MM:SS` in local time when `unix` is today, else `YYYY-MM-DD HH:MM:SS`.
fn format_local_time(unix: u64) -> String {
    let (Some(then), Some(today)) = (local_time(unix), local_time(unix_now())) else {
        return format!("unix time {unix}");
    };
    let clock = format!("{:02}:{:02}:{:02}", then.tm_hour, then.tm_min, then.tm_sec);
    if (then.tm_year, then.tm_yday) == (today.tm_year, today.tm_yday) {
        clock
    } else {
        format!(
            "{:04}-{:02}-{:02} {clock}",
            then.tm_year + 1900,
            then.tm_mon + 1,
            then.tm_mday
        )
    }
}

fn local_time(unix: u64) -> Option<libc::tm> {
    let seconds = libc::time_t::try_from(unix).ok()?;
    // SAFETY: `tm` is plain data that localtime_r fully initializes on success; both pointers are
    // valid for the call, and localtime_r is the thread-safe variant.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&seconds, &mut tm).is_null() {
            None
        } else {
            Some(tm)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::test_support::{kill_child, spawn_self, wait_for_line};
    use std::sync::mpsc;

    #[test]
    fn second_thread_waits_sees_the_holder_then_gets_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first =
            CacheLock::acquire(dir.path(), LockPolicy::NoWait, |_| panic!("free lock")).unwrap();
        let (seen_sender, seen) = mpsc::channel();
        let (done_sender, done) = mpsc::channel();
        let path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let lock = CacheLock::acquire(&path, LockPolicy::Wait, |holder| {
                seen_sender.send(holder.clone()).unwrap();
            })
            .unwrap();
            done_sender.send(()).unwrap();
            lock
        });
        let holder = seen
            .recv_timeout(Duration::from_secs(5))
            .expect("on_wait was called");
        match &holder {
            Holder::Process { pid, command, .. } => {
                assert_eq!(*pid, std::process::id());
                assert!(!command.is_empty());
            }
            Holder::Unknown => panic!("the holder recorded itself"),
        }
        assert!(
            done.recv_timeout(Duration::from_millis(200)).is_err(),
            "acquired while held"
        );
        drop(first);
        done.recv_timeout(Duration::from_secs(5))
            .expect("acquired after release");
        let second = waiter.join().unwrap();
        assert!(
            matches!(read_holder(second.dir()), Holder::Process { pid, .. } if pid == std::process::id())
        );
    }

    #[test]
    fn no_wait_fails_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let _held = CacheLock::acquire(dir.path(), LockPolicy::NoWait, |_| {}).unwrap();
        let error = CacheLock::acquire(dir.path(), LockPolicy::NoWait, |_| panic!("no waiting"))
            .unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, CacheError::Locked { .. }));
        assert!(
            text.contains(&format!(
                "the cache at {} is in use by `",
                dir.path().display()
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("(pid {}, since ", std::process::id())),
            "{text}"
        );
        assert!(text.contains("wait for it to finish and retry"), "{text}");
        assert!(text.contains("--no-wait"), "{text}");
    }

    #[test]
    fn release_removes_the_sidecar_and_relock_works() {
        let dir = tempfile::tempdir().unwrap();
        let lock = CacheLock::acquire(dir.path(), LockPolicy::NoWait, |_| {}).unwrap();
        assert!(dir.path().join(HOLDER_FILE).exists());
        drop(lock);
        assert!(!dir.path().join(HOLDER_FILE).exists());
        assert!(dir.path().join(LOCK_FILE).exists());
        CacheLock::acquire(dir.path(), LockPolicy::NoWait, |_| {}).unwrap();
    }

    #[test]
    fn stale_or_garbled_sidecars_read_as_unknown() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_holder(dir.path()), Holder::Unknown);
        std::fs::write(dir.path().join(HOLDER_FILE), b"{\"pid\":").unwrap();
        assert_eq!(read_holder(dir.path()), Holder::Unknown);
        let dead = HolderRecord {
            pid: i32::MAX as u32, // above any real pid_max
            command: "tulu run gone.tulu".into(),
            since_unix: 0,
            host: local_host_name(),
        };
        std::fs::write(
            dir.path().join(HOLDER_FILE),
            serde_json::to_vec(&dead).unwrap(),
        )
        .unwrap();
        assert_eq!(read_holder(dir.path()), Holder::Unknown);
        // A stale sidecar does not block anyone: the kernel lock is what counts.
        let lock = CacheLock::acquire(dir.path(), LockPolicy::NoWait, |_| {}).unwrap();
        assert!(
            matches!(read_holder(lock.dir()), Holder::Process { pid, .. } if pid == std::process::id())
        );
    }

    #[test]
    fn holder_display_and_quoting() {
        let holder = Holder::Process {
            pid: 4242,
            command: "tulu run recipe.tulu".into(),
            since_unix: unix_now(),
            host: local_host_name(),
        };
        let text = waiting_message(Path::new("/x/.tulu"), &holder);
        assert!(text.starts_with("waiting for the cache at /x/.tulu: held by `tulu run recipe.tulu` (pid 4242, since "), "{text}");
        // Today: clock time only, HH:MM:SS.
        let since = text.rsplit("since ").next().unwrap().trim_end_matches(')');
        assert_eq!(since.len(), 8, "{since}");
        let remote = Holder::Process {
            pid: 1,
            command: "tulu gc".into(),
            since_unix: 86_400 * 365,
            host: "elsewhere-host".into(),
        };
        let text = remote.to_string();
        assert!(
            text.contains("since 1971-01-0") && text.ends_with(", on elsewhere-host)"),
            "{text}"
        );
        assert_eq!(shell_quote("recipe.tulu"), "recipe.tulu");
        assert_eq!(shell_quote("my recipe.tulu"), "'my recipe.tulu'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    /// Body of the child process of `killed_holder_process_releases_the_lock`; does nothing when
    /// run as an ordinary test.
    #[test]
    fn child_process_holds_lock() {
        let Ok(dir) = std::env::var("TULU_TEST_LOCK_DIR") else {
            return;
        };
        let _lock = CacheLock::acquire(Path::new(&dir), LockPolicy::NoWait, |_| {}).unwrap();
        println!("LOCKED");
        std::thread::sleep(Duration::from_secs(20));
    }

    #[test]
    fn killed_holder_process_releases_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn_self(
            "cache::lock::tests::child_process_holds_lock",
            &[("TULU_TEST_LOCK_DIR", dir.path().as_os_str())],
        );
        wait_for_line(&mut child, "LOCKED");
        let child_pid = child.id();

        let error = CacheLock::acquire(dir.path(), LockPolicy::NoWait, |_| {}).unwrap_err();
        assert!(
            matches!(&error, CacheError::Locked { holder: Holder::Process { pid, .. }, .. } if *pid == child_pid),
            "{error}"
        );

        // Wait; the callback kills the holder, as a user pressing ^C elsewhere would end it.
        let mut seen = Vec::new();
        let lock = CacheLock::acquire(dir.path(), LockPolicy::Wait, |holder| {
            seen.push(holder.clone());
            kill_child(child_pid);
        })
        .unwrap();
        child.wait();
        assert!(
            matches!(seen.first(), Some(Holder::Process { pid, .. }) if *pid == child_pid),
            "{seen:?}"
        );
        // The child died holding it: its sidecar was stale and is now ours.
        assert!(
            matches!(read_holder(lock.dir()), Holder::Process { pid, .. } if pid == std::process::id())
        );
    }
}
