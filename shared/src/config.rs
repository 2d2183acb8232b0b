//! Configuration from environment variables, with errors that name the variable.
//!
//! A bad value produces one line such as `PORT="http": expected a port number (1-65535)`, and
//! [`or_exit`] turns it into exit status 2 without a panic or a backtrace. Secrets may also come
//! from a file named by `<NAME>_FILE`, the convention of the official postgres image, so Compose
//! secrets work unchanged.

use std::{env, fs, str::FromStr, time::Duration};

/// A variable that is missing, unreadable or not of the expected form.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(variable: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            problem: problem.into(),
        }
    }

    fn invalid(variable: &str, value: &str, expected: &str) -> Self {
        Self::new(
            format!("{variable}={value:?}"),
            format!("expected {expected}"),
        )
    }
}

/// Prints the error as one line and exits with status 2, the convention for bad usage.
pub fn or_exit<T>(program: &str, result: Result<T, ConfigError>) -> T {
    result.unwrap_or_else(|error| {
        eprintln!("{program}: configuration error: {error}");
        std::process::exit(2)
    })
}

/// The variable's value; `None` when it is unset or empty (Compose sets unset `${VAR}` to "").
pub fn optional(variable: &str) -> Result<Option<String>, ConfigError> {
    match env::var(variable) {
        Ok(value) if value.is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(env::VarError::NotPresent) => Ok(None),
        Err(env::VarError::NotUnicode(_)) => Err(ConfigError::new(variable, "is not valid UTF-8")),
    }
}

/// The variable's value, or `default` when it is unset.
pub fn string_or(variable: &str, default: &str) -> Result<String, ConfigError> {
    Ok(optional(variable)?.unwrap_or_else(|| default.to_owned()))
}

/// The variable parsed as `T`, or `default` when it is unset; `expected` describes a valid value.
pub fn parse_or<T: FromStr>(variable: &str, default: T, expected: &str) -> Result<T, ConfigError> {
    match optional(variable)? {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| ConfigError::invalid(variable, &value, expected)),
    }
}

/// A TCP port, 1-65535.
pub fn port_or(variable: &str, default: u16) -> Result<u16, ConfigError> {
    let port: u16 = parse_or(variable, default, "a port number (1-65535)")?;
    if port == 0 {
        return Err(ConfigError::invalid(
            variable,
            "0",
            "a port number (1-65535)",
        ));
    }
    Ok(port)
}

/// A duration written with its unit, such as `500ms` or `10s`.
pub fn duration_or(variable: &str, default: Duration) -> Result<Duration, ConfigError> {
    match optional(variable)? {
        None => Ok(default),
        Some(value) => parse_duration(value.trim()).ok_or_else(|| {
            ConfigError::invalid(
                variable,
                &value,
                "a duration with a unit, such as 500ms or 10s",
            )
        }),
    }
}

fn parse_duration(text: &str) -> Option<Duration> {
    let (number, to_duration): (&str, fn(u64) -> Duration) =
        if let Some(number) = text.strip_suffix("ms") {
            (number, Duration::from_millis)
        } else if let Some(number) = text.strip_suffix('s') {
            (number, Duration::from_secs)
        } else {
            return None;
        };
    let duration = to_duration(number.trim().parse().ok()?);
    (!duration.is_zero()).then_some(duration)
}

/// A secret from `<variable>` or from the file named by `<variable>_FILE`, never both.
///
/// One trailing newline is removed from file contents: editors and `echo` add one.
pub fn secret(variable: &str) -> Result<Option<String>, ConfigError> {
    let file_variable = format!("{variable}_FILE");
    match (optional(variable)?, optional(&file_variable)?) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            variable,
            format!("set {variable} or {file_variable}, not both"),
        )),
        (Some(value), None) => Ok(Some(value)),
        (None, Some(path)) => read_secret_file(&file_variable, &path).map(Some),
        (None, None) => Ok(None),
    }
}

fn read_secret_file(file_variable: &str, path: &str) -> Result<String, ConfigError> {
    let contents = fs::read_to_string(path).map_err(|error| {
        ConfigError::new(
            format!("{file_variable}={path:?}"),
            format!("cannot read the file: {error}"),
        )
    })?;
    let secret = contents
        .strip_suffix('\n')
        .map_or(contents.as_str(), |line| {
            line.strip_suffix('\r').unwrap_or(line)
        });
    if secret.is_empty() {
        return Err(ConfigError::new(
            format!("{file_variable}={path:?}"),
            "the file is empty",
        ));
    }
    Ok(secret.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_a_unit_and_must_not_be_zero() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("tens"), None);
    }

    #[test]
    fn a_secret_file_loses_one_trailing_newline_and_nothing_else() {
        let dir = env::temp_dir().join(format!("shared-config-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        fs::write(&path, " p@ss word \r\n").unwrap();
        let secret = read_secret_file("X_FILE", path.to_str().unwrap()).unwrap();
        fs::write(&path, "\n").unwrap();
        let empty = read_secret_file("X_FILE", path.to_str().unwrap()).unwrap_err();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(secret, " p@ss word ");
        assert_eq!(
            empty.to_string(),
            format!("X_FILE={:?}: the file is empty", path.to_str().unwrap())
        );
    }

    #[test]
    fn a_missing_secret_file_names_the_variable_and_the_path() {
        let error = read_secret_file("DB_PASSWORD_FILE", "/nonexistent/secret").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("DB_PASSWORD_FILE=\"/nonexistent/secret\": cannot read the file:"),
            "{error}"
        );
    }
}
