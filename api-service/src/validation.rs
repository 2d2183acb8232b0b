//! The rules a request must meet before it reaches the database.

use serde::Deserialize;
use shared::api::{DESCRIPTION_MAX_CHARS, TITLE_MAX_CHARS, TaskInput};
use utoipa::IntoParams;

use crate::error::Error;

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

/// A task body that passed every rule: the title trimmed, the description present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidTask {
    pub title: String,
    pub description: String,
}

impl TryFrom<TaskInput> for ValidTask {
    type Error = Error;

    fn try_from(input: TaskInput) -> Result<Self, Error> {
        let title = input.title.trim();
        let description = input.description.unwrap_or_default();
        if title.is_empty() {
            return Err(Error::InvalidTask("title must not be empty".to_owned()));
        }
        check_length("title", title, TITLE_MAX_CHARS)?;
        check_length("description", &description, DESCRIPTION_MAX_CHARS)?;
        Ok(Self {
            title: title.to_owned(),
            description,
        })
    }
}

fn check_length(field: &str, text: &str, max_chars: usize) -> Result<(), Error> {
    // Characters, not bytes: "ü" is one character, as PostgreSQL's char_length counts it.
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(Error::InvalidTask(format!(
            "{field} must be at most {max_chars} characters, got {chars}"
        )));
    }
    // PostgreSQL text cannot hold U+0000; refusing it here keeps it a 422 instead of a 500.
    if text.contains('\0') {
        return Err(Error::InvalidTask(format!(
            "{field} must not contain NUL characters"
        )));
    }
    Ok(())
}

/// The query of `GET /tasks`, before its ranges are checked.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the completed tasks, or only the open ones; all when absent.
    pub completed: Option<bool>,
    /// How many tasks at most (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// How many tasks to skip first (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Which tasks `GET /tasks` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListFilter {
    pub completed: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

impl TryFrom<ListQuery> for ListFilter {
    type Error = Error;

    fn try_from(query: ListQuery) -> Result<Self, Error> {
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::InvalidQuery(format!(
                "limit must be between 1 and {MAX_LIMIT}, got {limit}"
            )));
        }
        let offset = query.offset.unwrap_or(0);
        if offset < 0 {
            return Err(Error::InvalidQuery(format!(
                "offset must not be negative, got {offset}"
            )));
        }
        Ok(Self {
            completed: query.completed,
            limit,
            offset,
        })
    }
}

/// A task id from the path: a positive integer that fits PostgreSQL's BIGINT.
pub fn task_id(text: &str) -> Result<i64, Error> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && !text.starts_with('+'))
        .ok_or_else(|| Error::InvalidId(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(title: &str, description: Option<&str>) -> TaskInput {
        TaskInput {
            title: title.to_owned(),
            description: description.map(str::to_owned),
        }
    }

    #[test]
    fn titles_are_trimmed_and_counted_in_characters() {
        let task = ValidTask::try_from(input("  Ünïcødé 🦀  ", None)).unwrap();
        assert_eq!(task.title, "Ünïcødé 🦀");
        assert_eq!(task.description, "");
        assert!(ValidTask::try_from(input(&"é".repeat(200), None)).is_ok());
        assert!(ValidTask::try_from(input(&"é".repeat(201), None)).is_err());
    }

    #[test]
    fn ids_are_positive_integers_without_decoration() {
        assert_eq!(task_id("42").unwrap(), 42);
        assert_eq!(task_id("9223372036854775807").unwrap(), i64::MAX);
        for bad in [
            "0",
            "-1",
            "+1",
            "1.0",
            "abc",
            "",
            "9223372036854775808",
            " 1",
        ] {
            assert!(task_id(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
