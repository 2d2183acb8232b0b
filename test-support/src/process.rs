//! Starting server processes for tests: binaries, ports, folders, the account to run them as,
//! and the reaper that cleans up when the test binary exits, however it exits.

use std::{
    fs,
    net::{Ipv4Addr, TcpListener},
    os::unix::{fs::MetadataExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
};

/// The account a server runs as. PostgreSQL refuses to run as root, and CI machines and Docker
/// builds run tests as root: then servers run as `postgres` or `nobody` instead.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Account {
    uid: u32,
    gid: u32,
}

impl Account {
    /// `None` when this process is not root: servers then run as the current user.
    pub(crate) fn for_servers() -> Option<Self> {
        let running_as_root = fs::metadata("/proc/self").is_ok_and(|proc| proc.uid() == 0);
        if !running_as_root {
            return None;
        }
        let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
        let find = |name: &str| {
            passwd.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.len() > 3 && fields[0] == name).then(|| Self {
                    uid: fields[2].parse().unwrap_or(65534),
                    gid: fields[3].parse().unwrap_or(65534),
                })
            })
        };
        Some(find("postgres").or_else(|| find("nobody")).unwrap_or(Self {
            uid: 65534,
            gid: 65534,
        }))
    }
}

/// A command that runs as `account` (or as this process's user when `None`), in `dir`.
pub(crate) fn command(program: &Path, account: Option<Account>, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command.current_dir(dir).stdin(Stdio::null());
    if let Some(account) = account {
        command.uid(account.uid).gid(account.gid);
    }
    command
}

/// Runs `command` to completion; on failure, the error holds what it printed.
pub(crate) fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command.output().map_err(|error| {
        format!(
            "{what}: cannot run {}: {error}",
            Path::new(command.get_program()).display()
        )
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("cannot find a free loopback port")
}

/// A new empty folder under the system's temporary folder, owned by `account`.
pub(crate) fn temp_dir(label: &str, account: Option<Account>) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "lab-{label}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir)
        .unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));
    if let Some(account) = account {
        std::os::unix::fs::chown(&dir, Some(account.uid), Some(account.gid)).unwrap_or_else(
            |error| {
                panic!(
                    "cannot hand {} to the server account: {error}",
                    dir.display()
                )
            },
        );
    }
    dir
}

/// The first of `dirs`, then of `$PATH`, that holds an executable `name`.
pub(crate) fn find_binary(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.iter()
        .chain(&path_dirs)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|file| file.is_file() && file.mode() & 0o111 != 0)
        })
}

/// A shell process that waits for its stdin to close, then runs `cleanup`. The test binary holds
/// the other end: when the binary exits (even when killed) the kernel closes it, and when the
/// guard is dropped it closes it and waits, so the server is stopped and its folder removed.
#[derive(Debug)]
pub(crate) struct Reaper {
    stdin: Option<ChildStdin>,
    child: Child,
}

impl Reaper {
    pub(crate) fn spawn(
        cleanup: &str,
        args: &[&Path],
        account: Option<Account>,
        dir: &Path,
    ) -> Self {
        // Ctrl-C signals the whole process group: the reaper must outlive the tests it cleans
        // up after, so it ignores the signals and waits for its stdin to close.
        let script = format!("trap '' INT TERM HUP; read _ignored; {cleanup}");
        let mut command = command(Path::new("/bin/sh"), account, dir);
        command
            .arg("-c")
            .arg(script)
            .arg("reaper")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command
            .spawn()
            .expect("cannot start /bin/sh for the cleanup reaper");
        let stdin = child.stdin.take();
        Self { stdin, child }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
