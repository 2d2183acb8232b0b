//! Reading a service's `/metrics` (Prometheus's text format) in tests: a sample's value by its
//! name and labels, and how many series a metric has.

use crate::binary;

/// The text `/metrics` answers on `port`, which must answer 200.
pub fn scrape(port: u16) -> String {
    let answer = binary::http_get(port, "/metrics", None);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .expect("an HTTP answer has a head and a body");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    body.to_owned()
}

/// The series of metric `name` (a sample's full name, such as `x_seconds_count`) whose labels
/// include every one of `labels`, as `(labels, value)`.
pub fn series<'a>(text: &'a str, name: &str, labels: &[(&str, &str)]) -> Vec<(&'a str, f64)> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (sample, label_text) = match series.split_once('{') {
                Some((sample, rest)) => (sample, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            (sample == name).then_some((label_text, value.parse().ok()?))
        })
        .filter(|(label_text, _)| {
            labels.iter().all(|(key, value)| {
                label_text
                    .split(',')
                    .any(|pair| pair == format!("{key}=\"{value}\""))
            })
        })
        .collect()
}

/// The value of the one series of `name` with `labels`; `None` when there is none. Panics when
/// several match: the test's labels must pick one.
pub fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found = series(text, name, labels);
    assert!(
        found.len() <= 1,
        "{name} {labels:?} matches several series: {found:?}"
    );
    found.first().map(|(_, value)| *value)
}
