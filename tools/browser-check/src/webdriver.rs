//! The few `WebDriver` commands the check needs, over HTTP with reqwest. `WebDriver` is JSON over
//! HTTP (<https://www.w3.org/TR/webdriver2/>); a client library would add a large dependency tree
//! for six endpoints.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use base64::Engine;
use serde_json::{Value, json};

/// The key under which `WebDriver` returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver, started on a loopback port and stopped when dropped.
#[derive(Debug)]
pub struct Driver {
    process: Child,
    url: String,
}

impl Driver {
    pub async fn start(chromedriver: &str, port: u16) -> Result<Self> {
        let process = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("cannot start {chromedriver} (Debian: apt-get install chromium-driver)")
            })?;
        let driver = Self {
            process,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = client.get(format!("{}/status", driver.url)).send().await;
            if let Ok(response) = ready {
                let status: Value = response.json().await?;
                if status["value"]["ready"] == true {
                    return Ok(driver);
                }
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not become ready within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new headless Chromium session with the flags a closed network needs: without the
    /// background-networking ones Chromium keeps trying to reach Google's hosts.
    pub async fn session(&self, chromium: &str) -> Result<Session> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=1000,1150"],
            },
        }}});
        let client = reqwest::Client::new();
        let created = call(
            client
                .post(format!("{}/session", self.url))
                .json(&capabilities),
        )
        .await?;
        let id = created["sessionId"]
            .as_str()
            .context("no session id in the answer")?;
        Ok(Session {
            client,
            base: format!("{}/session/{id}", self.url),
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// One browser session.
#[derive(Debug)]
pub struct Session {
    client: reqwest::Client,
    base: String,
}

/// How to find an element: CSS for structure, `XPath` where the text matters.
#[derive(Debug, Clone, Copy)]
pub enum Locator<'a> {
    Css(&'a str),
    XPath(&'a str),
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Session {
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({"url": url})).await.map(drop)
    }

    /// The first element the locator finds, waiting up to 5 s for it to appear.
    pub async fn find(&self, locator: Locator<'_>) -> Result<Element> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.find_now(locator).await? {
                Some(element) => return Ok(element),
                None if Instant::now() > deadline => bail!("nothing matches {locator:?}"),
                None => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Waits up to 5 s until the locator finds nothing: after a click that loads another page,
    /// the old page (and what it showed) may still be there for a moment.
    pub async fn wait_until_gone(&self, locator: Locator<'_>) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.find_now(locator).await?.is_some() {
            ensure!(
                Instant::now() < deadline,
                "{locator:?} still matches after 5 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// The first element the locator finds right now, if any.
    pub async fn find_now(&self, locator: Locator<'_>) -> Result<Option<Element>> {
        let (using, value) = match locator {
            Locator::Css(selector) => ("css selector", selector),
            Locator::XPath(path) => ("xpath", path),
        };
        let found = self
            .post("/elements", json!({"using": using, "value": value}))
            .await?;
        let first = found.as_array().and_then(|elements| elements.first());
        Ok(first
            .and_then(|element| element[ELEMENT_KEY].as_str())
            .map(|id| Element(id.to_owned())))
    }

    pub async fn text(&self, element: &Element) -> Result<String> {
        let text = self.get(&format!("/element/{}/text", element.0)).await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    pub async fn attribute(&self, element: &Element, name: &str) -> Result<String> {
        let value = self
            .get(&format!("/element/{}/attribute/{name}", element.0))
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    pub async fn type_into(&self, element: &Element, text: &str) -> Result<()> {
        self.post(
            &format!("/element/{}/value", element.0),
            json!({"text": text}),
        )
        .await
        .map(drop)
    }

    pub async fn click(&self, element: &Element) -> Result<()> {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .await
            .map(drop)
    }

    /// The visible page as PNG bytes.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        let encoded = self.get("/screenshot").await?;
        let encoded = encoded.as_str().context("the screenshot is not a string")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(encoded)?)
    }

    pub async fn close(self) -> Result<()> {
        call(self.client.delete(&self.base)).await.map(drop)
    }

    async fn get(&self, path: &str) -> Result<Value> {
        call(self.client.get(format!("{}{path}", self.base))).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        call(self.client.post(format!("{}{path}", self.base)).json(&body)).await
    }
}

/// Sends a command and returns its `value`, or the `WebDriver` error as an error.
async fn call(request: reqwest::RequestBuilder) -> Result<Value> {
    let response = request
        .send()
        .await
        .context("chromedriver did not answer")?;
    let status = response.status();
    let mut body: Value = response
        .json()
        .await
        .context("chromedriver answered something else than JSON")?;
    if !status.is_success() {
        bail!("WebDriver error {status}: {}", body["value"]["message"]);
    }
    Ok(body["value"].take())
}
