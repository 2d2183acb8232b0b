//! Counter names: what a client may use as `{key}` in `/hits/{key}`.

pub const MAX_LENGTH: usize = 64;

/// A name that breaks the rules of [`CounterKey`]: answered with 400.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a counter key: use 1 to {MAX_LENGTH} characters of A-Z a-z 0-9 . _ : -")]
pub struct InvalidKey(String);

/// A checked counter name: 1 to 64 characters of `A-Z a-z 0-9 . _ : -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterKey(String);

impl CounterKey {
    pub fn parse(text: String) -> Result<Self, InvalidKey> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
        if (1..=MAX_LENGTH).contains(&text.len()) && text.chars().all(allowed) {
            Ok(Self(text))
        } else {
            Err(InvalidKey(text))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_64_characters_of_the_allowed_set() {
        for good in ["x", "web:home", "A.b_c:d-e9", &"k".repeat(64)] {
            assert!(
                CounterKey::parse(good.to_owned()).is_ok(),
                "{good:?} was refused"
            );
        }
        for bad in [
            "",
            " ",
            "a b",
            "é",
            "a/b",
            "a*",
            "{x}",
            "a\n",
            &"k".repeat(65),
        ] {
            assert!(
                CounterKey::parse(bad.to_owned()).is_err(),
                "{bad:?} was accepted"
            );
        }
    }
}
