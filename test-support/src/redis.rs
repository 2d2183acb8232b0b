//! Redis for tests: a key prefix of its own per test, and dedicated servers that tests may stop.

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, TcpStream},
    path::{Path, PathBuf},
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use crate::process::{self, Reaper};

const HOW_TO_PROVIDE: &str = "Install redis-server so the tests can start throwaway ones (some \
    tests stop and restart a server of their own): Debian/Ubuntu: `sudo apt-get install \
    redis-server`; macOS: `brew install redis`; Windows: run the tests in WSL 2 (Ubuntu) with the \
    Debian command. REDIS_URL, set to a server the tests may write to (e.g. \
    redis://127.0.0.1:6379; they only touch keys under their own prefix), serves the other \
    tests. With only Docker, `docker build -f docker/Dockerfile --target test .` runs the whole \
    suite inside a build.";

/// Where one test's keys live: a server and a key prefix no other test uses. Dropping it
/// deletes the test's keys when the server is one the tests do not own (`REDIS_URL`).
#[derive(Debug)]
pub struct TestRedis {
    url: String,
    prefix: String,
    owned: bool,
}

impl TestRedis {
    /// A new prefix on `REDIS_URL`'s server, or on this test binary's throwaway one.
    pub fn create() -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let prefix = format!(
            "lab-test:{}:{}:",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let (url, owned) = match std::env::var("REDIS_URL") {
            Ok(url) if !url.is_empty() => (url, false),
            _ => (shared_server().url(), true),
        };
        Self { url, prefix, owned }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The prefix every key of this test must start with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if self.owned {
            return;
        }
        let deleted = redis::Client::open(self.url.as_str())
            .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(2)))
            .and_then(|mut connection| {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{}*", self.prefix))
                    .query(&mut connection)?;
                if keys.is_empty() {
                    return Ok(());
                }
                redis::cmd("DEL").arg(keys).query(&mut connection)
            });
        if let Err(error) = deleted {
            eprintln!(
                "note: could not delete the test keys {}*: {error}",
                self.prefix
            );
        }
    }
}

/// A Redis server of the tests' own, in a temporary folder, on a loopback port, saving nothing.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    binary: PathBuf,
    _reaper: Reaper,
}

impl RedisServer {
    /// Starts `redis-server`. Panics, saying how to provide Redis, when it cannot be found.
    pub fn start() -> Self {
        let binary = find_binary().unwrap_or_else(|| {
            panic!("redis-server not found. This test runs a server of its own. {HOW_TO_PROVIDE}")
        });
        let dir = process::temp_dir("redis", None);
        let reaper = Reaper::spawn(
            r#"kill "$(cat "$1/redis.pid")"; rm -rf "$1""#,
            &[&dir],
            None,
            &dir,
        );
        let server = Self {
            port: process::free_port(),
            dir,
            binary,
            _reaper: reaper,
        };
        server.resume();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server and waits until its port is closed.
    pub fn stop(&self) {
        // SHUTDOWN closes the connection without a reply, so there is nothing to check here:
        // waiting for the port to close is the check.
        let _ = self.send("SHUTDOWN NOSAVE");
        self.wait_for(false);
    }

    /// Starts the server again on the same port.
    pub fn resume(&self) {
        let mut command = process::command(&self.binary, None, &self.dir);
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--daemonize", "yes", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--pidfile")
            .arg(self.dir.join("redis.pid"))
            .arg("--logfile")
            .arg(self.dir.join("redis.log"));
        process::run(&mut command, "redis-server").unwrap_or_else(|error| panic!("{error}"));
        self.wait_for(true);
    }

    fn wait_for(&self, up: bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self
            .send("PING")
            .is_ok_and(|reply| reply.starts_with("+PONG"))
            != up
        {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not {} within 30 s; log:\n{}",
                self.port,
                if up { "start" } else { "stop" },
                std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one inline command and returns the first bytes of the reply.
    fn send(&self, command: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(format!("{command}\r\n").as_bytes())?;
        let mut reply = [0; 64];
        let read = stream.read(&mut reply)?;
        Ok(String::from_utf8_lossy(&reply[..read]).into_owned())
    }
}

fn shared_server() -> &'static RedisServer {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        assert!(
            find_binary().is_some(),
            "These tests need Redis and REDIS_URL is not set. {HOW_TO_PROVIDE}"
        );
        RedisServer::start()
    })
}

fn find_binary() -> Option<PathBuf> {
    process::find_binary("redis-server", &[Path::new("/usr/bin").to_path_buf()])
}
