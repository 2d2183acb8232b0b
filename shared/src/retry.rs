//! Waiting for a dependency at start-up: retry with exponential backoff instead of exiting, so
//! a service started before its database (Compose, a reboot) comes up when the database does.

use std::{error::Error, future::Future, time::Duration};

use crate::error;

const FIRST_DELAY: Duration = Duration::from_millis(250);
const LONGEST_DELAY: Duration = Duration::from_secs(8);

/// Calls `attempt` until it succeeds, waiting 0.25 s, 0.5 s, 1 s ... (at most 8 s) in between,
/// logging each failure as a warning that names `dependency` and calling `failed`.
pub async fn with_backoff<T, E, F, Fut>(
    dependency: &str,
    mut attempt: F,
    mut failed: impl FnMut(),
) -> T
where
    E: Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut delay = FIRST_DELAY;
    let mut attempt_number = 0_u32;
    loop {
        attempt_number += 1;
        match attempt().await {
            Ok(value) => {
                if attempt_number > 1 {
                    tracing::info!(
                        dependency,
                        attempts = attempt_number,
                        "dependency reachable"
                    );
                }
                return value;
            }
            Err(error) => {
                failed();
                tracing::warn!(
                    dependency,
                    error = error::chain(&error),
                    attempt = attempt_number,
                    retry_in = ?delay,
                    "dependency not reachable yet"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(LONGEST_DELAY);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn retries_until_the_attempt_succeeds_with_growing_delays() {
        let calls = Cell::new(0);
        let started = tokio::time::Instant::now();
        let value = with_backoff(
            "test",
            || {
                calls.set(calls.get() + 1);
                let outcome = if calls.get() < 4 {
                    Err(std::io::Error::other("down"))
                } else {
                    Ok(42)
                };
                async move { outcome }
            },
            || {},
        )
        .await;
        assert_eq!(value, 42);
        assert_eq!(calls.get(), 4);
        // 0.25 + 0.5 + 1 s of waiting before the fourth attempt.
        assert_eq!(started.elapsed(), Duration::from_millis(1750));
    }
}
