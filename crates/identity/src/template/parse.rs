//! Lexing and parsing of the supported Go `text/template` subset into a small tree.
//!
//! Supported: text; actions `{{ … }}` with trim markers `{{- ` / ` -}}`; comments
//! `{{/* … */}}`; `if` / `else if` / `else` / `end`; operands `.`, `.field`, `.a.b`, string
//! literals (interpreted and raw), numbers, `true`/`false`, parenthesised commands; the
//! functions `eq`, `ne`, `not`, `and`, `or` and `index`. Anything else Go would accept
//! (pipes, variables, `range`, `with`, `define`, other functions) is refused with an explicit
//! "not supported" error, so a configuration that relies on it fails at load time.

use super::error_location;

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tree {
    pub(super) nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Text(String),
    Action(Command),
    If {
        condition: Command,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

/// One command: a function call (first argument a function name) or a single operand.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Command {
    pub(super) pos: usize,
    pub(super) args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Arg {
    /// `.`: the data map.
    Dot,
    /// `.a.b`: a field chain, the first name a key of the data map.
    Field {
        pos: usize,
        names: Vec<String>,
    },
    /// A function name; when not first in a command it is called without arguments.
    Function {
        pos: usize,
        name: String,
    },
    Str {
        value: String,
        quoted: String,
    },
    Int {
        value: i64,
        text: String,
    },
    Float {
        value: f64,
        text: String,
    },
    Bool(bool),
    /// `( command )`.
    Nested(Box<Command>),
}

/// The functions of Go's builtin set that the subset implements.
pub(super) const FUNCTIONS: [&str; 6] = ["and", "eq", "index", "ne", "not", "or"];

/// Go builtins (and keywords) we recognise but deliberately do not implement.
const UNSUPPORTED_FUNCTIONS: [&str; 13] = [
    "call", "html", "js", "len", "print", "printf", "println", "slice", "urlquery", "ge", "gt",
    "le", "lt",
];

const UNSUPPORTED_KEYWORDS: [&str; 7] = [
    "range", "with", "define", "template", "block", "break", "continue",
];

impl Arg {
    /// Go's `Node.String()`, used in execution error contexts.
    pub(super) fn source(&self) -> String {
        match self {
            Arg::Dot => ".".to_owned(),
            Arg::Field { names, .. } => names.iter().map(|n| format!(".{n}")).collect(),
            Arg::Function { name, .. } => name.clone(),
            Arg::Str { quoted, .. } => quoted.clone(),
            Arg::Int { text, .. } | Arg::Float { text, .. } => text.clone(),
            Arg::Bool(b) => b.to_string(),
            Arg::Nested(cmd) => format!("({})", cmd.source()),
        }
    }
}

impl Command {
    pub(super) fn source(&self) -> String {
        self.args
            .iter()
            .map(Arg::source)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Text(String),
    LeftDelim,
    RightDelim,
    Dot,
    Field(Vec<String>),
    Ident(String),
    Str { value: String, quoted: String },
    Number(String),
    LeftParen,
    RightParen,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
struct Item {
    tok: Tok,
    pos: usize,
    /// Whether whitespace separates this token from the previous one inside an action.
    spaced: bool,
}

const SPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// Parses `src`; errors read like Go's (`template: :LINE: message`).
pub(super) fn parse(src: &str) -> Result<Tree, String> {
    let items = lex(src)?;
    let mut parser = Parser {
        src,
        items,
        next: 0,
    };
    let (nodes, end) = parser.list()?;
    match end {
        ListEnd::Eof => Ok(Tree { nodes }),
        ListEnd::Else { pos, .. } => Err(parser.error(pos, "unexpected {{else}}")),
        ListEnd::End { pos } => Err(parser.error(pos, "unexpected {{end}}")),
    }
}

fn lex(src: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut pos = 0;
    let mut trim_next_text = false;
    loop {
        let rest = &src[pos..];
        let Some(open) = rest.find("{{") else {
            let text = if trim_next_text {
                rest.trim_start_matches(SPACE)
            } else {
                rest
            };
            if !text.is_empty() {
                items.push(Item {
                    tok: Tok::Text(text.to_owned()),
                    pos,
                    spaced: false,
                });
            }
            items.push(Item {
                tok: Tok::Eof,
                pos: src.len(),
                spaced: false,
            });
            return Ok(items);
        };
        let after_open = pos + open + 2;
        let left_trim = has_left_trim_marker(&src[after_open..]);
        let mut text = &rest[..open];
        if trim_next_text {
            text = text.trim_start_matches(SPACE);
        }
        if left_trim {
            text = text.trim_end_matches(SPACE);
        }
        if !text.is_empty() {
            items.push(Item {
                tok: Tok::Text(text.to_owned()),
                pos,
                spaced: false,
            });
        }
        let mut p = after_open + if left_trim { 2 } else { 0 };
        if src[p..].starts_with("/*") {
            let Some(close) = src[p + 2..].find("*/") else {
                return Err(parse_error(src, p, "unclosed comment"));
            };
            p += 2 + close + 2;
            let Some((len, trim)) = at_right_delim(&src[p..]) else {
                return Err(parse_error(src, p, "comment ends before closing delimiter"));
            };
            pos = p + len;
            trim_next_text = trim;
            continue;
        }
        items.push(Item {
            tok: Tok::LeftDelim,
            pos: pos + open,
            spaced: false,
        });
        let (end, trim) = lex_action(src, p, &mut items)?;
        pos = end;
        trim_next_text = trim;
    }
}

/// `-` followed by a space right after `{{`.
fn has_left_trim_marker(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next() == Some('-') && chars.next().is_some_and(|c| SPACE.contains(&c))
}

/// A closing delimiter at the start of `s`: its length and whether it trims the next text.
fn at_right_delim(s: &str) -> Option<(usize, bool)> {
    let mut chars = s.chars();
    if chars.next().is_some_and(|c| SPACE.contains(&c)) && s[1..].starts_with("-}}") {
        return Some((4, true));
    }
    s.starts_with("}}").then_some((2, false))
}

/// Lexes one action starting after `{{`; returns the position after `}}`.
fn lex_action(src: &str, mut p: usize, items: &mut Vec<Item>) -> Result<(usize, bool), String> {
    let mut spaced = false;
    loop {
        if let Some((len, trim)) = at_right_delim(&src[p..]) {
            items.push(Item {
                tok: Tok::RightDelim,
                pos: p,
                spaced,
            });
            return Ok((p + len, trim));
        }
        let Some(c) = src[p..].chars().next() else {
            return Err(parse_error(src, p, "unclosed action"));
        };
        let start = p;
        let tok = match c {
            c if SPACE.contains(&c) => {
                p += 1;
                spaced = true;
                continue;
            }
            '.' if src[p + 1..].starts_with(|d: char| d.is_ascii_digit()) => {
                let len = number_len(&src[p..]);
                p += len;
                Tok::Number(src[start..p].to_owned())
            }
            '.' => {
                let mut names = Vec::new();
                while src[p..].starts_with('.') {
                    let name_len = src[p + 1..]
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .unwrap_or(src.len() - p - 1);
                    if name_len == 0 {
                        break;
                    }
                    names.push(src[p + 1..p + 1 + name_len].to_owned());
                    p += 1 + name_len;
                }
                if names.is_empty() {
                    p += 1;
                    Tok::Dot
                } else {
                    Tok::Field(names)
                }
            }
            '"' => {
                let (value, len) = lex_quoted(&src[p..]).map_err(|m| parse_error(src, p, &m))?;
                p += len;
                Tok::Str {
                    value,
                    quoted: src[start..p].to_owned(),
                }
            }
            '`' => {
                let Some(close) = src[p + 1..].find('`') else {
                    return Err(parse_error(src, p, "unterminated raw quoted string"));
                };
                p += close + 2;
                Tok::Str {
                    value: src[start + 1..p - 1].to_owned(),
                    quoted: src[start..p].to_owned(),
                }
            }
            '0'..='9' | '-' | '+' => {
                let len = number_len(&src[p..]);
                if len == 0 {
                    return Err(parse_error(
                        src,
                        p,
                        &format!("bad number syntax: {:?}", &src[p..p + 1]),
                    ));
                }
                p += len;
                Tok::Number(src[start..p].to_owned())
            }
            '(' => {
                p += 1;
                Tok::LeftParen
            }
            ')' => {
                p += 1;
                Tok::RightParen
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = src[p..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(src.len() - p);
                p += len;
                Tok::Ident(src[start..p].to_owned())
            }
            '|' => {
                return Err(parse_error(
                    src,
                    p,
                    "pipelines (|) are not supported in Fulcio templates",
                ));
            }
            '$' => {
                return Err(parse_error(
                    src,
                    p,
                    "variables ($) are not supported in Fulcio templates",
                ));
            }
            ':' | '=' => {
                return Err(parse_error(
                    src,
                    p,
                    "variable declarations are not supported in Fulcio templates",
                ));
            }
            '\'' => {
                return Err(parse_error(
                    src,
                    p,
                    "character constants are not supported in Fulcio templates",
                ));
            }
            other => {
                return Err(parse_error(
                    src,
                    p,
                    &format!("unrecognized character in action: {other:?}"),
                ));
            }
        };
        items.push(Item {
            tok,
            pos: start,
            spaced,
        });
        spaced = false;
    }
}

/// Length of a decimal number (`[+-]digits[.digits][e[+-]digits]`) at the start of `s`,
/// or 0 if there is none.
fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut any_digits = i > digits_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        any_digits |= i > frac_start;
    }
    if !any_digits {
        return 0;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_start = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    i
}

/// An interpreted string literal at the start of `s` (which begins with `"`): its value and
/// its length in the source. Go's escapes are supported.
fn lex_quoted(s: &str) -> Result<(String, usize), String> {
    let mut value = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, i + 1)),
            '\n' => break,
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let simple = match e {
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    'v' => Some('\u{b}'),
                    '\\' => Some('\\'),
                    '"' => Some('"'),
                    _ => None,
                };
                if let Some(c) = simple {
                    value.push(c);
                    continue;
                }
                let digits = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => return Err(format!("invalid escape \\{e} in quoted string")),
                };
                let hex: String = (0..digits)
                    .filter_map(|_| chars.next().map(|(_, c)| c))
                    .collect();
                let decoded = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == digits);
                match (e, decoded) {
                    ('x', Some(v)) if v < 0x80 => value.push(char::from(v as u8)),
                    ('u' | 'U', Some(v)) if char::from_u32(v).is_some() => {
                        value.extend(char::from_u32(v));
                    }
                    _ => return Err(format!("invalid escape \\{e}{hex} in quoted string")),
                }
            }
            c => value.push(c),
        }
    }
    Err("unterminated quoted string".to_owned())
}

/// Go's parse error text: `template: :LINE: message`.
fn parse_error(src: &str, pos: usize, msg: &str) -> String {
    let (line, _) = error_location(src, pos);
    format!("template: :{line}: {msg}")
}

enum ListEnd {
    Eof,
    Else { pos: usize, else_if: bool },
    End { pos: usize },
}

struct Parser<'s> {
    src: &'s str,
    items: Vec<Item>,
    next: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Item {
        // The lexer always ends the stream with `Eof`, and `bump` never moves past it.
        &self.items[self.next.min(self.items.len() - 1)]
    }

    fn bump(&mut self) -> Item {
        let item = self.peek().clone();
        if self.next + 1 < self.items.len() {
            self.next += 1;
        }
        item
    }

    fn error(&self, pos: usize, msg: &str) -> String {
        parse_error(self.src, pos, msg)
    }

    fn expect_right_delim(&mut self, context: &str) -> Result<(), String> {
        let item = self.bump();
        match item.tok {
            Tok::RightDelim => Ok(()),
            _ => Err(self.error(
                item.pos,
                &format!("unexpected {} in {context}", describe(&item.tok)),
            )),
        }
    }

    /// Nodes up to `{{else}}`, `{{end}}` or the end of input.
    fn list(&mut self) -> Result<(Vec<Node>, ListEnd), String> {
        let mut nodes = Vec::new();
        loop {
            let item = self.bump();
            match item.tok {
                Tok::Eof => return Ok((nodes, ListEnd::Eof)),
                Tok::Text(t) => nodes.push(Node::Text(t)),
                Tok::LeftDelim => {
                    let keyword = match &self.peek().tok {
                        Tok::Ident(name) => name.clone(),
                        _ => String::new(),
                    };
                    let kw_pos = self.peek().pos;
                    match keyword.as_str() {
                        "if" => {
                            self.bump();
                            nodes.push(self.if_node(kw_pos)?);
                        }
                        "else" => {
                            self.bump();
                            let else_if = matches!(&self.peek().tok, Tok::Ident(n) if n == "if");
                            if else_if {
                                self.bump();
                            } else {
                                self.expect_right_delim("else")?;
                            }
                            return Ok((
                                nodes,
                                ListEnd::Else {
                                    pos: kw_pos,
                                    else_if,
                                },
                            ));
                        }
                        "end" => {
                            self.bump();
                            self.expect_right_delim("end")?;
                            return Ok((nodes, ListEnd::End { pos: kw_pos }));
                        }
                        k if UNSUPPORTED_KEYWORDS.contains(&k) => {
                            return Err(self.error(
                                kw_pos,
                                &format!("{{{{{k}}}}} is not supported in Fulcio templates"),
                            ));
                        }
                        _ => {
                            let command = self.command(item.pos, "command")?;
                            self.expect_right_delim("command")?;
                            nodes.push(Node::Action(command));
                        }
                    }
                }
                other => {
                    return Err(self.error(item.pos, &format!("unexpected {}", describe(&other))));
                }
            }
        }
    }

    /// After `{{if`: condition, branches, and the closing `{{end}}` (shared with any
    /// `{{else if}}` chain).
    fn if_node(&mut self, pos: usize) -> Result<Node, String> {
        let condition = self.command(pos, "if")?;
        self.expect_right_delim("if")?;
        let (then, end) = self.list()?;
        let otherwise = match end {
            ListEnd::End { .. } => Vec::new(),
            ListEnd::Else { pos, else_if: true } => vec![self.if_node(pos)?],
            ListEnd::Else { .. } => {
                let (otherwise, end) = self.list()?;
                match end {
                    ListEnd::End { .. } => otherwise,
                    ListEnd::Else { pos, .. } => {
                        return Err(self.error(pos, "expected end; found {{else}}"));
                    }
                    ListEnd::Eof => return Err(self.error(self.src.len(), "unexpected EOF")),
                }
            }
            ListEnd::Eof => return Err(self.error(self.src.len(), "unexpected EOF")),
        };
        Ok(Node::If {
            condition,
            then,
            otherwise,
        })
    }

    /// Operands up to `}}` or `)` (not consumed).
    fn command(&mut self, pos: usize, context: &str) -> Result<Command, String> {
        let mut args = Vec::new();
        let mut cmd_pos = None;
        loop {
            let item = self.peek().clone();
            if matches!(item.tok, Tok::RightDelim | Tok::RightParen | Tok::Eof) {
                break;
            }
            if !args.is_empty() && !item.spaced {
                return Err(self.error(
                    item.pos,
                    &format!("unexpected {} in operand", describe(&item.tok)),
                ));
            }
            self.bump();
            cmd_pos.get_or_insert(item.pos);
            let arg = match item.tok {
                Tok::Dot => Arg::Dot,
                Tok::Field(names) => Arg::Field {
                    pos: item.pos,
                    names,
                },
                Tok::Str { value, quoted } => Arg::Str { value, quoted },
                Tok::Number(text) => number(&text)
                    .ok_or_else(|| self.error(item.pos, &format!("bad number syntax: {text:?}")))?,
                Tok::Ident(name) => self.identifier(item.pos, name)?,
                Tok::LeftParen => {
                    let nested = self.command(item.pos, "parenthesized pipeline")?;
                    let close = self.bump();
                    if close.tok != Tok::RightParen {
                        return Err(self.error(close.pos, "unclosed left paren"));
                    }
                    Arg::Nested(Box::new(nested))
                }
                other => {
                    return Err(self.error(
                        item.pos,
                        &format!("unexpected {} in operand", describe(&other)),
                    ));
                }
            };
            args.push(arg);
        }
        if args.is_empty() {
            return Err(self.error(pos, &format!("missing value for {context}")));
        }
        Ok(Command {
            pos: cmd_pos.unwrap_or(pos),
            args,
        })
    }

    fn identifier(&self, pos: usize, name: String) -> Result<Arg, String> {
        match name.as_str() {
            "true" => Ok(Arg::Bool(true)),
            "false" => Ok(Arg::Bool(false)),
            "nil" => Err(self.error(pos, "nil is not supported in Fulcio templates")),
            n if FUNCTIONS.contains(&n) => Ok(Arg::Function { pos, name }),
            n if UNSUPPORTED_FUNCTIONS.contains(&n) => Err(self.error(
                pos,
                &format!("function {n:?} is not supported in Fulcio templates"),
            )),
            n if UNSUPPORTED_KEYWORDS.contains(&n) || matches!(n, "if" | "else" | "end") => {
                Err(self.error(pos, &format!("unexpected <{n}> in command")))
            }
            n => Err(self.error(pos, &format!("function {n:?} not defined"))),
        }
    }
}

/// Go's untyped numeric constant: an `int` if it has no fraction or exponent, else a float.
fn number(text: &str) -> Option<Arg> {
    if let Ok(value) = text.parse::<i64>() {
        return Some(Arg::Int {
            value,
            text: text.to_owned(),
        });
    }
    let value: f64 = text.parse().ok()?;
    Some(Arg::Float {
        value,
        text: text.to_owned(),
    })
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Text(_) => "text".to_owned(),
        Tok::LeftDelim => "\"{{\"".to_owned(),
        Tok::RightDelim => "\"}}\"".to_owned(),
        Tok::Dot => "<.>".to_owned(),
        Tok::Field(names) => format!("<.{}>", names.join(".")),
        Tok::Ident(name) => format!("<{name}>"),
        Tok::Str { quoted, .. } => quoted.clone(),
        Tok::Number(n) => n.clone(),
        Tok::LeftParen => "\"(\"".to_owned(),
        Tok::RightParen => "\")\"".to_owned(),
        Tok::Eof => "EOF".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(pos: usize, name: &str) -> Arg {
        Arg::Field {
            pos,
            names: vec![name.to_owned()],
        }
    }

    #[test]
    fn parses_the_shipped_constructs() {
        let tree =
            parse(r#"refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}"#)
                .unwrap();
        assert_eq!(
            tree.nodes,
            vec![
                Node::Text("refs/".into()),
                Node::If {
                    condition: Command {
                        pos: 10,
                        args: vec![
                            Arg::Function {
                                pos: 10,
                                name: "eq".into()
                            },
                            field(13, "ref_type"),
                            Arg::Str {
                                value: "branch".into(),
                                quoted: "\"branch\"".into()
                            },
                        ],
                    },
                    then: vec![Node::Text("heads/".into())],
                    otherwise: vec![Node::Text("tags/".into())],
                },
                Node::Action(Command {
                    pos: 64,
                    args: vec![field(64, "ref")]
                }),
            ]
        );
        let tree = parse(r#"{{(index . "oidc.circleci.com/project-id")}}"#).unwrap();
        assert!(
            matches!(&tree.nodes[..], [Node::Action(Command { args, .. })] if matches!(&args[..], [Arg::Nested(_)]))
        );
    }

    #[test]
    fn trim_markers_and_comments() {
        let tree = parse("a  {{- .x -}}  \n b{{/* note */}}c {{- /* x */ -}} d").unwrap();
        assert_eq!(
            tree.nodes,
            vec![
                Node::Text("a".into()),
                Node::Action(Command {
                    pos: 7,
                    args: vec![field(7, "x")]
                }),
                Node::Text("b".into()),
                Node::Text("c".into()),
                Node::Text("d".into()),
            ]
        );
    }

    #[test]
    fn field_chains_and_literals() {
        let tree =
            parse("{{ .a.b }}{{ `raw\"` }}{{ \"q\\t\\u00e9\" }}{{ 1 }}{{ -1.5e3 }}{{ true }}")
                .unwrap();
        let args: Vec<Arg> = tree
            .nodes
            .into_iter()
            .filter_map(|n| match n {
                Node::Action(c) => c.args.into_iter().next(),
                _ => None,
            })
            .collect();
        assert_eq!(
            args,
            vec![
                Arg::Field {
                    pos: 3,
                    names: vec!["a".into(), "b".into()]
                },
                Arg::Str {
                    value: "raw\"".into(),
                    quoted: "`raw\"`".into()
                },
                Arg::Str {
                    value: "q\té".into(),
                    quoted: "\"q\\t\\u00e9\"".into()
                },
                Arg::Int {
                    value: 1,
                    text: "1".into()
                },
                Arg::Float {
                    value: -1500.0,
                    text: "-1.5e3".into()
                },
                Arg::Bool(true),
            ]
        );
    }

    #[test]
    fn else_if_chains_share_one_end() {
        let tree =
            parse(r#"{{if eq .a "1"}}one{{else if eq .a "2"}}two{{else}}many{{end}}!"#).unwrap();
        assert_eq!(tree.nodes.len(), 2);
        let Node::If { otherwise, .. } = &tree.nodes[0] else {
            panic!("not an if")
        };
        assert!(
            matches!(&otherwise[..], [Node::If { otherwise, .. }] if otherwise == &vec![Node::Text("many".into())])
        );
    }

    #[test]
    fn errors_read_like_go() {
        let cases = [
            ("{{}}", "template: :1: missing value for command"),
            ("{{ .x ", "template: :1: unclosed action"),
            ("{{ foo .x }}", "template: :1: function \"foo\" not defined"),
            ("{{ if }}x{{end}}", "template: :1: missing value for if"),
            ("{{ if .x }}x", "template: :1: unexpected EOF"),
            ("a{{ else }}", "template: :1: unexpected {{else}}"),
            ("\n{{ end }}", "template: :2: unexpected {{end}}"),
            ("{{ \"abc }}", "template: :1: unterminated quoted string"),
            ("{{/* x }}", "template: :1: unclosed comment"),
            ("{{ (.x }}", "template: :1: unclosed left paren"),
            ("{{ .x.y. }}", "template: :1: unexpected <.> in operand"),
            ("{{ eq.x }}", "template: :1: unexpected <.x> in operand"),
            (
                "{{ .x | printf }}",
                "template: :1: pipelines (|) are not supported in Fulcio templates",
            ),
            (
                "{{ $x := 1 }}",
                "template: :1: variables ($) are not supported in Fulcio templates",
            ),
            (
                "{{ range .x }}{{end}}",
                "template: :1: {{range}} is not supported in Fulcio templates",
            ),
            (
                "{{ printf \"%s\" .x }}",
                "template: :1: function \"printf\" is not supported in Fulcio templates",
            ),
            (
                "{{ eq .x nil }}",
                "template: :1: nil is not supported in Fulcio templates",
            ),
            (
                "{{if .a}}{{else}}{{else}}{{end}}",
                "template: :1: expected end; found {{else}}",
            ),
        ];
        for (src, want) in cases {
            assert_eq!(parse(src).unwrap_err(), want, "template {src:?}");
        }
    }
}
