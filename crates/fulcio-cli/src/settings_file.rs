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
}

/// What a settings file contributes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileSettings {
    /// `--key=value` arguments for flags left at their defaults.
    pub arguments: Vec<String>,
    /// Keys that name no flag; viper keeps and ignores them, so we only warn.
    pub unknown_keys: Vec<String>,
}

/// The extra command-line arguments the file contributes, given the `serve` command and what
/// was parsed without the file.
pub fn arguments_from_file(
    path: &Path,
    serve: &Command,
    matches: &ArgMatches,
) -> Result<FileSettings, SettingsFileError> {
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

    let mut out = FileSettings::default();
    for (key, value) in settings {
        let Some(arg) = serve.get_arguments().find(|a| {
            a.get_long() == Some(key.as_str())
                || a.get_all_aliases()
                    .is_some_and(|al| al.contains(&key.as_str()))
        }) else {
            out.unknown_keys.push(key);
            continue;
        };
        let from_user = matches!(
            matches.value_source(arg.get_id().as_str()),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        if from_user {
            continue;
        }
        let Some(long) = arg.get_long() else { continue };
        out.arguments
            .push(format!("--{long}={}", flag_text(&value)));
    }
    Ok(out)
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
    fn file_fills_defaults_only_and_reports_unknown_keys() {
        use clap::{Arg, ArgAction};
        let serve = Command::new("serve")
            .arg(Arg::new("port").long("port").default_value("8080"))
            .arg(Arg::new("ca").long("ca"))
            .arg(
                Arg::new("host")
                    .long("host")
                    .alias("http-host")
                    .default_value("0.0.0.0"),
            )
            .arg(
                Arg::new("watch")
                    .long("fileca-watch")
                    .action(ArgAction::Set),
            );
        let matches = serve.clone().get_matches_from(["serve", "--ca", "fileca"]);
        let dir = std::env::temp_dir().join(format!("fulcio-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.yaml");
        std::fs::write(
            &path,
            "ca: ephemeralca\nport: 5555\nhttp-host: 127.0.0.1\nfileca-watch: false\nextra: 1\n",
        )
        .unwrap();
        let settings = arguments_from_file(&path, &serve, &matches).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        // `ca` was given on the command line, so the file's value is not used.
        assert_eq!(
            settings.arguments,
            ["--port=5555", "--host=127.0.0.1", "--fileca-watch=false"]
        );
        assert_eq!(settings.unknown_keys, ["extra"]);
    }

    #[test]
    fn values_become_flag_text() {
        assert_eq!(flag_text(&json!("fileca")), "fileca");
        assert_eq!(flag_text(&json!(5555)), "5555");
        assert_eq!(flag_text(&json!(false)), "false");
        assert_eq!(flag_text(&json!(["a", "b"])), "a,b");
    }
}
