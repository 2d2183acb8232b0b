//! Drives the running web page in headless Chromium, as a user with a real browser would: loads
//! `/`, adds a task through the form, completes it, deletes it, checks that the view count
//! rises, and saves a screenshot of the page with the completed task.
//!
//! ```text
//! cargo run -p browser-check -- http://127.0.0.1:8031 [--screenshot docs/screenshot.png]
//! ```
//!
//! Needs Debian's `chromium` and `chromium-driver` (or `$CHROMIUM` and `$CHROMEDRIVER`).

mod webdriver;

use std::{net::TcpListener, process::ExitCode};

use anyhow::{Context, Result, ensure};
use webdriver::{Driver, Locator, Session};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(url), screenshot) = (
        args.next(),
        args.next()
            .filter(|flag| flag == "--screenshot")
            .and(args.next()),
    ) else {
        eprintln!("usage: browser-check <url> [--screenshot <file.png>]");
        return ExitCode::from(2);
    };
    match run(url.trim_end_matches('/'), screenshot.as_deref()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("browser check failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str, screenshot: Option<&str>) -> Result<()> {
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let driver = Driver::start(&chromedriver, port).await?;
    let session = driver.session(&chromium).await?;
    let outcome = use_the_page(&session, url, screenshot).await;
    session.close().await?;
    outcome
}

async fn use_the_page(session: &Session, url: &str, screenshot: Option<&str>) -> Result<()> {
    session.goto(&format!("{url}/")).await?;
    let heading = session
        .text(&session.find(Locator::Css("h1")).await?)
        .await?;
    ensure!(heading == "Hello from Rust", "the page says {heading:?}");
    let first = views(session).await?;
    println!("ok  the page loads: {heading:?}, {first} views");

    let title = format!("Checked in a real browser {}", std::process::id());
    session
        .type_into(&session.find(Locator::Css("#title")).await?, &title)
        .await?;
    let description = session.find(Locator::Css("#description")).await?;
    session
        .type_into(&description, "added through the form in headless Chromium")
        .await?;
    session
        .click(
            &session
                .find(Locator::Css(".add-task button[type=submit]"))
                .await?,
        )
        .await?;
    let task_xpath = format!("//li[.//span[@class='task-title'][text()='{title}']]");
    let task = session
        .find(Locator::XPath(&task_xpath))
        .await
        .context("the added task is not listed")?;
    let id = session.attribute(&task, "id").await?;
    println!("ok  the form added the task ({id})");

    let after_add = views(session).await?;
    ensure!(
        after_add > first,
        "the view count did not rise: {first}, then {after_add}"
    );
    println!("ok  the view count rose: {first}, then {after_add}");

    let complete = format!("button[aria-label='Complete {title}']");
    session
        .click(&session.find(Locator::Css(&complete)).await?)
        .await?;
    let done = session
        .find(Locator::Css(&format!("li#{id}.done")))
        .await
        .context("the task is not shown done")?;
    ensure!(
        session.text(&done).await?.contains("Done"),
        "the completed task has no Done badge"
    );
    println!("ok  the Complete button marked it done");

    if let Some(path) = screenshot {
        std::fs::write(path, session.screenshot().await?)
            .with_context(|| format!("cannot write {path}"))?;
        println!("ok  screenshot saved to {path}");
    }

    let delete = format!("button[aria-label='Delete {title}']");
    session
        .click(&session.find(Locator::Css(&delete)).await?)
        .await?;
    session
        .wait_until_gone(Locator::Css(&format!("li#{id}")))
        .await
        .context("the deleted task is still listed")?;
    println!("ok  the Delete button removed it");
    Ok(())
}

/// The view count the page shows.
async fn views(session: &Session) -> Result<i64> {
    let text = session
        .text(&session.find(Locator::Css("#views strong")).await?)
        .await?;
    text.parse()
        .with_context(|| format!("the view count is {text:?}"))
}
