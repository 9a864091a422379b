//! `fulcio version`: upstream's fields (release-utils' version command), with the Rust
//! compiler where upstream names the Go toolchain.

use fulcio_server::build_info;

/// The version report as text (aligned columns) or JSON.
pub fn report(json: bool) -> String {
    let fields = [
        ("GitVersion", build_info::VERSION.to_owned()),
        ("GitCommit", build_info::REVISION.to_owned()),
        ("GitTreeState", "unknown".to_owned()),
        ("BuildDate", build_info::BUILD_DATE.to_owned()),
        ("GoVersion", build_info::COMPILER_VERSION.to_owned()),
        ("Compiler", "rustc".to_owned()),
        (
            "Platform",
            format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        ),
    ];
    if json {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
            .collect();
        return serde_json::to_string_pretty(&map).unwrap_or_default();
    }
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 3;
    fields
        .iter()
        .map(|(k, v)| format!("{:<width$}{v}\n", format!("{k}:")))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_and_json_name_the_version() {
        assert!(super::report(false).starts_with("GitVersion:"));
        let json: serde_json::Value =
            serde_json::from_str(&super::report(true)).unwrap_or_default();
        assert_eq!(json["GitVersion"], env!("CARGO_PKG_VERSION"));
    }
}
