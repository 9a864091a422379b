//! Reading typed claims the way upstream does: Go's `encoding/json` decoding the payload into a
//! struct with tagged fields.
//!
//! That decoding decides which tokens are refused (Fulcio spec §3.3): a field tagged `sha` also
//! matches a key spelled `SHA` (case-insensitive fallback, the last matching key wins), a
//! `null` or absent claim leaves the zero value, and a value of the wrong JSON type fails the
//! whole token.

use serde_json::{Map, Value};

use crate::IdentityError;

/// The claims of one JSON object (the payload, or a nested object such as `kubernetes.io`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claims<'a> {
    object: &'a Map<String, Value>,
}

impl<'a> Claims<'a> {
    pub(crate) fn new(object: &'a Map<String, Value>) -> Self {
        Self { object }
    }

    /// The value Go would decode into a field tagged `name`: Go walks the keys in document
    /// order and every key equal to `name` up to case folding overwrites the field, so the last
    /// such key wins.
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.object
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == name || fold_eq(k, name))
            .map(|(_, v)| v)
    }

    /// A `string` field: absent or `null` is `""`, any other non-string is an error.
    pub(crate) fn string(&self, name: &str) -> Result<String, IdentityError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(type_error(other, name, "string")),
        }
    }

    /// An `int64` field: absent or `null` is 0; a fraction, an out-of-range number or a
    /// non-number is an error.
    pub(crate) fn int64(&self, name: &str) -> Result<i64, IdentityError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(v) => Ok(v),
                None => Err(IdentityError::Claims(format!(
                    "json: cannot unmarshal number {n} into Go struct field .{name} of type int64"
                ))),
            },
            Some(other) => Err(type_error(other, name, "int64")),
        }
    }

    /// Upstream's `stringAsBool` (used for `email_verified`): `true`, `"true"`, `"True"` are
    /// true; `false`, `"false"`, `"False"` and an absent claim are false; anything else,
    /// including `null`, fails with "invalid value for boolean".
    pub(crate) fn string_as_bool(&self, name: &str) -> Result<bool, IdentityError> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" || s == "True" => Ok(true),
            Some(Value::String(s)) if s == "false" || s == "False" => Ok(false),
            Some(_) => Err(IdentityError::Claims(
                "invalid value for boolean".to_owned(),
            )),
        }
    }

    /// A nested struct field: absent or `null` decodes to an empty object, anything but an
    /// object is an error.
    pub(crate) fn object(&self, name: &str) -> Result<Claims<'a>, IdentityError> {
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        match self.get(name) {
            None | Some(Value::Null) => Ok(Claims::new(&EMPTY)),
            Some(Value::Object(o)) => Ok(Claims::new(o)),
            Some(other) => Err(type_error(other, name, "struct")),
        }
    }

    /// A `map[string]string` field: absent or `null` is fine, every value must be a string or
    /// `null`.
    pub(crate) fn check_string_map(&self, name: &str) -> Result<(), IdentityError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Object(o)) => o.iter().try_for_each(|(k, v)| match v {
                Value::String(_) | Value::Null => Ok(()),
                other => Err(type_error(other, &format!("{name}.{k}"), "string")),
            }),
            Some(other) => Err(type_error(other, name, "map[string]string")),
        }
    }

    /// Every key and value of the object, for upstream's decoding into `map[string]any`.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.object.iter()
    }
}

/// Go's case-insensitive field match (`bytes.EqualFold`, Unicode simple folding approximated
/// by lower-casing).
fn fold_eq(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Go's `UnmarshalTypeError` text.
fn type_error(value: &Value, field: &str, go_type: &str) -> IdentityError {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    IdentityError::Claims(format!(
        "json: cannot unmarshal {kind} into Go struct field .{field} of type {go_type}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(o) => o,
            _ => Map::new(),
        }
    }

    #[test]
    fn strings_follow_go_decoding() {
        let o = object(json!({"a": "x", "n": null, "num": 1, "SHA": "folded"}));
        let c = Claims::new(&o);
        assert_eq!(c.string("a").unwrap(), "x");
        assert_eq!(c.string("n").unwrap(), "");
        assert_eq!(c.string("missing").unwrap(), "");
        assert_eq!(c.string("sha").unwrap(), "folded");
        assert!(
            matches!(c.string("num"), Err(IdentityError::Claims(m)) if m.contains("cannot unmarshal number"))
        );
    }

    #[test]
    fn later_folded_key_overrides_exact_key() {
        let o = object(json!({"sha": "first", "SHA": "second"}));
        assert_eq!(Claims::new(&o).string("sha").unwrap(), "second");
        let o = object(json!({"SHA": "first", "sha": "second"}));
        assert_eq!(Claims::new(&o).string("sha").unwrap(), "second");
    }

    #[test]
    fn int64_rejects_fractions_and_strings() {
        let o = object(json!({"i": 7, "f": 1.5, "s": "1", "z": null}));
        let c = Claims::new(&o);
        assert_eq!(c.int64("i").unwrap(), 7);
        assert_eq!(c.int64("z").unwrap(), 0);
        assert_eq!(c.int64("missing").unwrap(), 0);
        assert!(c.int64("f").is_err());
        assert!(c.int64("s").is_err());
    }

    #[test]
    fn string_as_bool_accepts_upstream_spellings_only() {
        let o = object(json!({
            "t1": true, "t2": "true", "t3": "True",
            "f1": false, "f2": "false", "f3": "False",
            "bad1": "yes", "bad2": "TRUE", "bad3": null, "bad4": 1
        }));
        let c = Claims::new(&o);
        for name in ["t1", "t2", "t3"] {
            assert!(c.string_as_bool(name).unwrap(), "{name}");
        }
        for name in ["f1", "f2", "f3", "missing"] {
            assert!(!c.string_as_bool(name).unwrap(), "{name}");
        }
        for name in ["bad1", "bad2", "bad3", "bad4"] {
            assert_eq!(
                c.string_as_bool(name),
                Err(IdentityError::Claims("invalid value for boolean".into())),
                "{name}"
            );
        }
    }

    #[test]
    fn nested_objects_and_string_maps() {
        let o = object(
            json!({"k": {"ns": "a"}, "bad": "x", "act": {"a": "b", "n": null}, "act2": {"a": 1}}),
        );
        let c = Claims::new(&o);
        assert_eq!(c.object("k").unwrap().string("ns").unwrap(), "a");
        assert_eq!(c.object("missing").unwrap().string("ns").unwrap(), "");
        assert!(c.object("bad").is_err());
        assert!(c.check_string_map("act").is_ok());
        assert!(c.check_string_map("missing").is_ok());
        assert!(c.check_string_map("act2").is_err());
        assert!(c.check_string_map("bad").is_err());
    }
}
