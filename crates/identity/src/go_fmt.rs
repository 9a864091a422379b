//! Go's text rendering of decoded JSON values: `fmt`'s `%v`, `strconv.FormatFloat(v, 'f', -1)`
//! and `strconv.Quote`.
//!
//! Upstream decodes claims into Go `any` values (every number a `float64`) and prints them with
//! these functions; claim values end up in certificates (ci-provider templates, Fulcio spec
//! §3.3) and in client-facing error texts, so they must print the same digits.

use serde_json::Value;

/// A top-level claim as a ci-provider template value (Fulcio spec §3.3): strings as-is, numbers
/// in plain decimal without exponent (whole numbers without a fraction), everything else in
/// `%v` form.
pub(crate) fn claim_string(value: &Value) -> String {
    match value {
        Value::Number(n) => plain_decimal(json_number(n)),
        other => verb_v(other),
    }
}

/// Go's `fmt.Sprintf("%v", v)` of a JSON value decoded into `any`.
pub(crate) fn verb_v(value: &Value) -> String {
    let mut out = String::new();
    write_verb_v(&mut out, value);
    out
}

fn write_verb_v(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&shortest_g(json_number(n))),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_verb_v(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // fmt prints maps with their keys sorted.
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push_str("map[");
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_verb_v(out, v);
            }
            out.push(']');
        }
    }
}

/// Go decodes every JSON number into a `float64`; large integers lose precision the same way.
fn json_number(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(0.0)
}

/// `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
/// Rust's `Display` for `f64` has exactly these semantics.
pub(crate) fn plain_decimal(v: f64) -> String {
    format!("{v}")
}

/// `%v` of a `float64`: shortest round-trip digits in `%g` form, switching to an exponent when
/// the decimal exponent is below -4 or at least 6 (Go's `'g'` with shortest precision, e.g.
/// `1e+06`, `1.753e+09`).
pub(crate) fn shortest_g(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return plain_decimal(v);
    }
    // `{:e}` gives the shortest round-trip digits as `d.ddde±x`.
    let sci = format!("{v:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => return plain_decimal(v),
    };
    if (-4..6).contains(&exp) {
        return plain_decimal(v);
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// Go's `strconv.Quote`, used where upstream formats values with `%q` in error texts.
pub(crate) fn quote(s: &str) -> String {
    quote_bytes(s.as_bytes())
}

/// `strconv.Quote` of a Go string that may hold invalid UTF-8 (e.g. an unescaped URL part).
pub(crate) fn quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32));
                }
                // Go escapes non-printable runes; control and non-ASCII space characters are
                // the ones that occur in practice.
                c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                    if (c as u32) <= 0xffff {
                        out.push_str(&format!("\\u{:04x}", c as u32));
                    } else {
                        out.push_str(&format!("\\U{:08x}", c as u32));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_level_numbers_print_in_plain_decimal() {
        assert_eq!(claim_string(&json!(1)), "1");
        assert_eq!(claim_string(&json!(1.0)), "1");
        assert_eq!(claim_string(&json!(1.4)), "1.4");
        assert_eq!(claim_string(&json!(1.7)), "1.7");
        assert_eq!(claim_string(&json!(1e6)), "1000000");
        assert_eq!(claim_string(&json!(1753000000.0)), "1753000000");
        assert_eq!(claim_string(&json!(1753000000)), "1753000000");
        assert_eq!(claim_string(&json!(-2.5)), "-2.5");
        assert_eq!(claim_string(&json!(0.0000001)), "0.0000001");
        assert_eq!(claim_string(&json!(1e21)), "1000000000000000000000");
    }

    #[test]
    fn large_integers_lose_precision_like_float64() {
        // 2^53 + 1 is not representable; Go decodes it to 2^53.
        assert_eq!(
            claim_string(&json!(9007199254740993_u64)),
            "9007199254740992"
        );
    }

    #[test]
    fn other_values_print_with_verb_v() {
        assert_eq!(claim_string(&json!("bar")), "bar");
        assert_eq!(claim_string(&json!("")), "");
        assert_eq!(claim_string(&json!(true)), "true");
        assert_eq!(claim_string(&json!(false)), "false");
        assert_eq!(claim_string(&json!(null)), "<nil>");
        assert_eq!(
            claim_string(&json!(["sigstore", "other"])),
            "[sigstore other]"
        );
        assert_eq!(
            claim_string(&json!({"b": 1, "a": {"c": [true, null]}})),
            "map[a:map[c:[true <nil>]] b:1]"
        );
    }

    #[test]
    fn nested_numbers_use_g_form() {
        assert_eq!(
            verb_v(&json!([1e6, 123456, 1753000000, 0.0001, 0.00001, 1.5, 0])),
            "[1e+06 123456 1.753e+09 0.0001 1e-05 1.5 0]"
        );
        assert_eq!(shortest_g(1234567.0), "1.234567e+06");
        assert_eq!(shortest_g(-1e100), "-1e+100");
    }

    #[test]
    fn quote_escapes_like_strconv() {
        assert_eq!(quote("a b"), "\"a b\"");
        assert_eq!(quote("a\"b\\"), "\"a\\\"b\\\\\"");
        assert_eq!(quote("\nbad\x01"), "\"\\nbad\\x01\"");
        assert_eq!(quote("ü"), "\"ü\"");
        assert_eq!(quote_bytes(b"%\xff"), "\"%\\xff\"");
    }
}
