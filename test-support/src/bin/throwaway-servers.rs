//! The tests' throwaway PostgreSQL and Redis, for scripts (the benchmarks): the same servers,
//! started the same way, so that no script has a server start-up of its own.
//!
//!     cargo run -q -p test-support --bin throwaway-servers -- postgres redis
//!
//! Prints one line per server, `DATABASE_URL=…` and `REDIS_URL=…`, then keeps them until its
//! standard input closes or it is killed; either way the servers are stopped and their
//! folders removed (the reaper of `test_support::process` sees to it).

use std::io::{self, BufRead, Write};

use test_support::{postgres::PostgresServer, redis::RedisServer};

fn main() {
    let mut postgres = None;
    let mut redis = None;
    let mut stdout = io::stdout();
    for name in std::env::args().skip(1) {
        let line = match name.as_str() {
            "postgres" => format!(
                "DATABASE_URL={}",
                postgres.insert(PostgresServer::start()).url()
            ),
            "redis" => format!("REDIS_URL={}", redis.insert(RedisServer::start()).url()),
            _ => {
                eprintln!("usage: throwaway-servers [postgres] [redis]");
                std::process::exit(2);
            }
        };
        writeln!(stdout, "{line}").expect("stdout is writable");
    }
    stdout.flush().expect("stdout is writable");
    // Until whoever started us closes our stdin (or exits, which closes it too).
    for _ in io::stdin().lock().lines() {}
}
