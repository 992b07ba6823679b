//! Helpers for tests that need a second process: the test binary re-runs itself with one test
//! selected and an environment variable that turns that test into the child's body.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};

/// A child test process, SIGKILLed and reaped when dropped so that a failing test never leaves
/// it running.
pub(crate) struct ChildProcess {
    child: Child,
}

impl ChildProcess {
    /// Its pid.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for it to exit.
    pub(crate) fn wait(&mut self) -> ExitStatus {
        self.child.wait().expect("waiting for a child works")
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        kill_child(self.child.id());
        let _ = self.child.wait();
    }
}

/// Starts this test binary running only `test_path` (exact name), with `env` set, stdout piped.
pub(crate) fn spawn_self(test_path: &str, env: &[(&str, &OsStr)]) -> ChildProcess {
    let mut command = Command::new(std::env::current_exe().expect("the test binary has a path"));
    command
        .args([test_path, "--exact", "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (name, value) in env {
        command.env(name, value);
    }
    ChildProcess {
        child: command.spawn().expect("the test binary can start itself"),
    }
}

/// Reads the child's stdout until a line ending in `marker` (libtest prints `test NAME ... `
/// before the test's own output on the same line); panics if the child exits first.
pub(crate) fn wait_for_line(child: &mut ChildProcess, marker: &str) {
    let stdout = child.child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.trim_end().ends_with(marker) => break,
            Some(Ok(_)) => continue,
            Some(Err(error)) => panic!("reading the child's output failed: {error}"),
            None => panic!(
                "the child exited before printing {marker:?}: {:?}",
                child.wait()
            ),
        }
    }
    // Keep draining in the background so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
}

/// SIGKILLs a process (a child of this test).
pub(crate) fn kill_child(pid: u32) {
    // SAFETY: sending a signal has no memory-safety preconditions; the pid is our own child,
    // not yet reaped, so it cannot have been reused.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}
