//! PostgreSQL for tests: a fresh database per test, and dedicated servers that tests may stop.

use std::{
    path::{Path, PathBuf},
    process::Command,
    str::FromStr,
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use sqlx::{
    ConnectOptions, Connection, Executor,
    postgres::{PgConnectOptions, PgConnection},
};

use crate::process::{self, Account, Reaper};

const HOW_TO_PROVIDE: &str = "Install the PostgreSQL server so the tests can start throwaway \
    ones (some tests stop and restart a server of their own): Debian/Ubuntu: `sudo apt-get \
    install postgresql`; macOS: `brew install postgresql@15` and add its bin folder to PATH; \
    Windows: run the tests in WSL 2 (Ubuntu) with the Debian command. The binaries are looked for \
    in $PG_BIN_DIR, /usr/lib/postgresql/*/bin and $PATH. DATABASE_URL, set to a server where this \
    user may CREATE DATABASE (e.g. postgres://postgres:secret@127.0.0.1:5432/postgres), serves the \
    other tests. With only Docker, `docker build -f docker/Dockerfile --target test .` runs the \
    whole suite inside a build.";

/// An empty database of its own for one test. Dropping it drops the database when the server
/// is one the tests do not own (`DATABASE_URL`); a throwaway server is removed whole at exit.
#[derive(Debug)]
pub struct TestDatabase {
    options: PgConnectOptions,
    name: String,
    admin: Option<PgConnectOptions>,
}

impl TestDatabase {
    /// Creates the database on `DATABASE_URL`'s server, or on this test binary's throwaway one.
    pub async fn create() -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let (admin, owned) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let options = PgConnectOptions::from_str(&url).unwrap_or_else(|error| {
                    panic!("DATABASE_URL is not a PostgreSQL URL: {error}")
                });
                (options, false)
            }
            _ => (shared_server().connect_options(), true),
        };
        let name = format!(
            "lab_test_{}_{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let mut connection = connect(&admin).await;
        connection
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .unwrap_or_else(|error| panic!("cannot create the test database {name}: {error}"));
        connection.close().await.ok();
        Self {
            options: admin.clone().database(&name),
            name,
            admin: (!owned).then_some(admin),
        }
    }

    /// How to connect to this test's database.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.options.clone()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin) = self.admin.take() else {
            return;
        };
        let statement = format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name);
        // Drop cannot await, and the test's runtime may be shutting down: use a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut connection = admin.connect().await.ok()?;
                connection.execute(statement.as_str()).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: could not drop the test database {}", self.name);
        }
    }
}

/// A PostgreSQL server of the tests' own, in a temporary folder, on a loopback port.
#[derive(Debug)]
pub struct PostgresServer {
    port: u16,
    dir: PathBuf,
    bin_dir: PathBuf,
    account: Option<Account>,
    _reaper: Reaper,
}

impl PostgresServer {
    /// Creates a cluster with `initdb` and starts it. Panics, saying how to provide PostgreSQL,
    /// when the server binaries cannot be found.
    pub fn start() -> Self {
        let bin_dir = find_bin_dir().unwrap_or_else(|| {
            panic!("PostgreSQL server binaries not found. This test runs a server of its own. {HOW_TO_PROVIDE}")
        });
        let account = Account::for_servers();
        let dir = process::temp_dir("postgres", account);
        let reaper = Reaper::spawn(
            r#""$1" -D "$2/data" -m immediate stop; rm -rf "$2""#,
            &[&bin_dir.join("pg_ctl"), &dir],
            account,
            &dir,
        );
        let server = Self {
            port: process::free_port(),
            dir,
            bin_dir,
            account,
            _reaper: reaper,
        };
        server.initdb();
        server.resume();
        server
    }

    /// How to connect as the superuser `postgres` to the database `postgres`.
    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username("postgres")
            .database("postgres")
    }

    /// The same as a URL: `postgres://postgres@127.0.0.1:{port}/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server ("fast": open connections are closed), keeping its data.
    pub fn stop(&self) {
        let mut command = self.pg_ctl();
        command.args(["-m", "fast", "-w", "stop"]);
        process::run(&mut command, "pg_ctl stop").unwrap_or_else(|error| panic!("{error}"));
    }

    /// Starts the server again on the same port and data.
    pub fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.display()
        );
        let mut command = self.pg_ctl();
        command
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        if let Err(error) = process::run(&mut command, "pg_ctl start") {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            panic!("{error}\nserver log:\n{log}");
        }
    }

    fn initdb(&self) {
        let mut command = process::command(&self.bin_dir.join("initdb"), self.account, &self.dir);
        command.arg("-D").arg(self.dir.join("data")).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        ]);
        process::run(&mut command, "initdb").unwrap_or_else(|error| panic!("{error}"));
    }

    fn pg_ctl(&self) -> Command {
        let mut command = process::command(&self.bin_dir.join("pg_ctl"), self.account, &self.dir);
        command.arg("-D").arg(self.dir.join("data"));
        command
    }
}

/// The throwaway server the tests of this binary share, started by the first one to ask.
fn shared_server() -> &'static PostgresServer {
    static SERVER: OnceLock<PostgresServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        assert!(
            find_bin_dir().is_some(),
            "These tests need PostgreSQL and DATABASE_URL is not set. {HOW_TO_PROVIDE}"
        );
        PostgresServer::start()
    })
}

async fn connect(options: &PgConnectOptions) -> PgConnection {
    PgConnection::connect_with(options)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "cannot connect to PostgreSQL at {}:{}: {error}. {HOW_TO_PROVIDE}",
                options.get_host(),
                options.get_port()
            )
        })
}

/// The folder with `initdb` and `pg_ctl`: `$PG_BIN_DIR`, Debian's newest version, or `$PATH`.
fn find_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PG_BIN_DIR")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .collect();
    debian.sort_by_key(|dir| version_of(dir));
    dirs.extend(debian.into_iter().rev());
    let initdb = process::find_binary("initdb", &dirs)?;
    let bin_dir = initdb.parent()?.to_path_buf();
    bin_dir.join("pg_ctl").exists().then_some(bin_dir)
}

fn version_of(bin_dir: &Path) -> u32 {
    bin_dir
        .parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .and_then(|name| name.parse().ok())
        .unwrap_or(0)
}
