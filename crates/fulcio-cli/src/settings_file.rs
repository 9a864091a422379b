//! `fulcio serve -c/--config FILE` (Fulcio spec §7): server settings from a YAML or JSON file
//! whose keys are the flag names (`ca: fileca`, `port: 5555`, `ct-log-url: …`), as upstream
//! reads them with viper. Precedence is viper's: command-line flag, then environment variable,
//! then the file, then the flag's default.
//!
//! Implemented by re-running the argument parser with `--key=value` appended for every file
//! key whose flag was left at its default.

use std::path::Path;

use clap::{ArgMatches, Command, parser::ValueSource};
use serde_json::Value;

/// The settings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsFileError {
    /// Missing or unreadable.
    #[error("unable to read config file provided: {0}")]
    Read(std::io::Error),
    /// Not one of the supported extensions.
    #[error("config file must have one of the following extensions: json, yaml, yml")]
    Extension,
    /// Did not parse, or is not a map.
    #[error("unable to parse config file provided: {0}")]
    Parse(String),
    /// A key names no flag of `fulcio serve`.
    #[error("config file: unknown setting {0:?}")]
    UnknownKey(String),
}

/// The extra command-line arguments the file contributes, given the `serve` command and what
/// was parsed without the file.
pub fn arguments_from_file(
    path: &Path,
    serve: &Command,
    matches: &ArgMatches,
) -> Result<Vec<String>, SettingsFileError> {
    let text = std::fs::read_to_string(path).map_err(SettingsFileError::Read)?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let document: Value = match extension.as_str() {
        "json" => {
            serde_json::from_str(&text).map_err(|e| SettingsFileError::Parse(e.to_string()))?
        }
        "yaml" | "yml" => {
            serde_saphyr::from_str(&text).map_err(|e| SettingsFileError::Parse(e.to_string()))?
        }
        _ => return Err(SettingsFileError::Extension),
    };
    let settings = match document {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        _ => {
            return Err(SettingsFileError::Parse(
                "the file is not a map of settings".into(),
            ));
        }
    };

    let mut arguments = Vec::new();
    for (key, value) in settings {
        let Some(arg) = serve.get_arguments().find(|a| {
            a.get_long() == Some(key.as_str())
                || a.get_all_aliases()
                    .is_some_and(|al| al.contains(&key.as_str()))
        }) else {
            return Err(SettingsFileError::UnknownKey(key));
        };
        let from_user = matches!(
            matches.value_source(arg.get_id().as_str()),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        if from_user {
            continue;
        }
        let Some(long) = arg.get_long() else { continue };
        arguments.push(format!("--{long}={}", flag_text(&value)));
    }
    Ok(arguments)
}

/// A YAML/JSON value as flag text: lists comma-joined (as pflag string slices take them).
fn flag_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(flag_text).collect::<Vec<_>>().join(","),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_become_flag_text() {
        assert_eq!(flag_text(&json!("fileca")), "fileca");
        assert_eq!(flag_text(&json!(5555)), "5555");
        assert_eq!(flag_text(&json!(false)), "false");
        assert_eq!(flag_text(&json!(["a", "b"])), "a,b");
    }
}
