//! Execution of a parsed template over `map[string]string` data with `missingkey=error`,
//! following Go's `text/template` semantics for the supported subset.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::error_location;
use super::parse::{Arg, Command, Node, Tree};
use crate::go_fmt;

/// The data a ci-provider template sees: claims over defaults, all strings.
pub(super) type Data = BTreeMap<String, String>;

/// A value during execution (Go's `reflect.Value` restricted to what the subset produces).
#[derive(Debug, Clone)]
enum Value<'d> {
    Str(Cow<'d, str>),
    Bool(bool),
    Int(i64),
    Float(f64),
    Map(&'d Data),
}

impl Value<'_> {
    /// Go's `isTrue`.
    fn truth(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Map(m) => !m.is_empty(),
        }
    }

    /// How `fmt.Fprint` prints the value.
    fn print(&self, out: &mut String) {
        match self {
            Value::Str(s) => out.push_str(s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&go_fmt::shortest_g(*f)),
            Value::Map(m) => {
                out.push_str("map[");
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    out.push_str(v);
                }
                out.push(']');
            }
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Map(_) => "map[string]string",
        }
    }
}

struct State<'t, 'd> {
    src: &'t str,
    data: &'d Data,
}

/// Where an execution error happened: a node's position and its source text.
struct At<'a> {
    pos: usize,
    context: Cow<'a, str>,
}

pub(super) fn execute(src: &str, tree: &Tree, data: &Data) -> Result<String, String> {
    let state = State { src, data };
    let mut out = String::new();
    state.walk(&tree.nodes, &mut out)?;
    Ok(out)
}

impl<'d> State<'_, 'd> {
    /// Go's exec error text: `template: :LINE:COL: executing "" at <CONTEXT>: message`.
    fn error(&self, at: &At<'_>, msg: &str) -> String {
        let (line, col) = error_location(self.src, at.pos);
        format!(
            "template: :{line}:{col}: executing \"\" at <{}>: {msg}",
            at.context
        )
    }

    fn walk(&self, nodes: &[Node], out: &mut String) -> Result<(), String> {
        for node in nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Action(cmd) => self.command(cmd)?.print(out),
                Node::If {
                    condition,
                    then,
                    otherwise,
                } => {
                    let branch = if self.command(condition)?.truth() {
                        then
                    } else {
                        otherwise
                    };
                    self.walk(branch, out)?;
                }
            }
        }
        Ok(())
    }

    fn command(&self, cmd: &Command) -> Result<Value<'d>, String> {
        match cmd.args.split_first() {
            Some((Arg::Function { pos, name }, args)) => self.call(cmd, *pos, name, args),
            Some((field @ Arg::Field { pos, names }, rest)) if !rest.is_empty() => {
                let at = At {
                    pos: *pos,
                    context: Cow::Owned(field.source()),
                };
                let name = names.last().map_or("", String::as_str);
                Err(self.error(&at, &format!("{name} is not a method but has arguments")))
            }
            Some((first, [])) => self.arg(first),
            Some((first, _)) => {
                let at = At {
                    pos: cmd.pos,
                    context: Cow::Owned(cmd.source()),
                };
                Err(self.error(
                    &at,
                    &format!("can't give argument to non-function {}", first.source()),
                ))
            }
            None => Err(self.error(
                &At {
                    pos: cmd.pos,
                    context: Cow::Borrowed(""),
                },
                "missing command",
            )),
        }
    }

    fn arg(&self, arg: &Arg) -> Result<Value<'d>, String> {
        match arg {
            Arg::Dot => Ok(Value::Map(self.data)),
            Arg::Field { pos, names } => self.field(*pos, names),
            Arg::Function { pos, name } => {
                let cmd = Command {
                    pos: *pos,
                    args: vec![arg.clone()],
                };
                self.call(&cmd, *pos, name, &[])
            }
            Arg::Str { value, .. } => Ok(Value::Str(Cow::Owned(value.clone()))),
            Arg::Int { value, .. } => Ok(Value::Int(*value)),
            Arg::Float { value, .. } => Ok(Value::Float(*value)),
            Arg::Bool(b) => Ok(Value::Bool(*b)),
            Arg::Nested(cmd) => self.command(cmd),
        }
    }

    /// `.a.b`: the first name is a key of the data map (missing → error); strings have no
    /// fields.
    fn field(&self, pos: usize, names: &[String]) -> Result<Value<'d>, String> {
        let context = || Cow::Owned(names.iter().map(|n| format!(".{n}")).collect::<String>());
        let mut value = Value::Map(self.data);
        for name in names {
            value = match value {
                Value::Map(m) => match m.get(name) {
                    Some(v) => Value::Str(Cow::Borrowed(v.as_str())),
                    None => {
                        let at = At {
                            pos,
                            context: context(),
                        };
                        return Err(self.error(
                            &at,
                            &format!("map has no entry for key {}", go_fmt::quote(name)),
                        ));
                    }
                },
                other => {
                    let at = At {
                        pos,
                        context: context(),
                    };
                    let msg = format!("can't evaluate field {name} in type {}", other.type_name());
                    return Err(self.error(&at, &msg));
                }
            };
        }
        Ok(value)
    }

    fn call(
        &self,
        cmd: &Command,
        pos: usize,
        name: &str,
        args: &[Arg],
    ) -> Result<Value<'d>, String> {
        let arity = |want: &str| {
            let at = At {
                pos,
                context: Cow::Borrowed(name),
            };
            Err(self.error(
                &at,
                &format!(
                    "wrong number of args for {name}: want {want} got {}",
                    args.len()
                ),
            ))
        };
        let failed = |msg: String| {
            let at = At {
                pos: cmd.pos,
                context: Cow::Owned(cmd.source()),
            };
            Err(self.error(&at, &format!("error calling {name}: {msg}")))
        };
        match name {
            "eq" | "ne" => {
                if name == "ne" && args.len() != 2 {
                    return arity("2");
                }
                let Some((first, rest)) = args.split_first() else {
                    return arity("at least 1");
                };
                // Go evaluates every argument before calling the function.
                let first = self.arg(first)?;
                let others = rest
                    .iter()
                    .map(|a| self.arg(a))
                    .collect::<Result<Vec<_>, _>>()?;
                if others.is_empty() {
                    return failed("missing argument for comparison".to_owned());
                }
                let mut equal = false;
                for other in &others {
                    match equals(&first, other) {
                        Ok(true) => {
                            equal = true;
                            break;
                        }
                        Ok(false) => {}
                        Err(msg) => return failed(msg),
                    }
                }
                Ok(Value::Bool(if name == "eq" { equal } else { !equal }))
            }
            "not" => match args {
                [only] => Ok(Value::Bool(!self.arg(only)?.truth())),
                _ => arity("1"),
            },
            // `and`/`or` evaluate lazily and return the deciding argument itself.
            "and" | "or" => {
                let Some((last, init)) = args.split_last() else {
                    return arity("at least 1");
                };
                for a in init {
                    let v = self.arg(a)?;
                    if v.truth() == (name == "or") {
                        return Ok(v);
                    }
                }
                self.arg(last)
            }
            "index" => {
                let Some((item, keys)) = args.split_first() else {
                    return arity("at least 1");
                };
                let mut value = self.arg(item)?;
                let keys = keys
                    .iter()
                    .map(|a| self.arg(a))
                    .collect::<Result<Vec<_>, _>>()?;
                for key in keys {
                    value = match (&value, key) {
                        // A missing key is the zero value: `missingkey=error` applies to
                        // fields only.
                        (Value::Map(m), Value::Str(k)) => {
                            Value::Str(Cow::Borrowed(m.get(k.as_ref()).map_or("", String::as_str)))
                        }
                        (Value::Map(_), k) => {
                            return failed(format!(
                                "value has type {}; should be string",
                                k.type_name()
                            ));
                        }
                        (v, _) => {
                            return failed(format!("can't index item of type {}", v.type_name()));
                        }
                    };
                }
                Ok(value)
            }
            other => {
                let at = At {
                    pos,
                    context: Cow::Borrowed(other),
                };
                Err(self.error(
                    &at,
                    &format!("{} is not a defined function", go_fmt::quote(other)),
                ))
            }
        }
    }
}

/// Go's `eq` for two values: same basic kind compares, different kinds are an error.
fn equals(a: &Value<'_>, b: &Value<'_>) -> Result<bool, String> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(x == y),
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::Int(x), Value::Int(y)) => Ok(x == y),
        (Value::Float(x), Value::Float(y)) => Ok(x == y),
        (Value::Map(_), Value::Map(_)) => {
            Err("non-comparable types map[string]string: map[string]string".to_owned())
        }
        _ => Err("incompatible types for comparison".to_owned()),
    }
}
