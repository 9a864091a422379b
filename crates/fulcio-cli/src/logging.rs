//! Log output for `--log_type` (Fulcio spec §7): `dev` is human-readable text on stdout (as
//! upstream's zap development logger), `prod` is one JSON object per line on stderr with
//! zap-production keys — `severity`, `ts`, `caller`, `message` — plus the event's fields and
//! those of its spans (such as `requestID`). `RUST_LOG` selects levels (default `info`).

use std::{fmt, io::IsTerminal};

use serde_json::{Map, Value};
use tracing::{Event, Subscriber, field::Field};
use tracing_subscriber::{
    EnvFilter,
    fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, format::Writer},
    layer::SubscriberExt as _,
    registry::LookupSpan,
    util::SubscriberInitExt as _,
};

/// `--log_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogType {
    /// Text for people.
    Dev,
    /// JSON for log pipelines.
    Prod,
}

/// Installs the global subscriber. Calling it twice leaves the first one in place.
pub fn init(log_type: LogType) {
    // An unset RUST_LOG means `info`; an invalid one too, but saying why rather than silently.
    let filter = match std::env::var(EnvFilter::DEFAULT_ENV) {
        Ok(directives) => EnvFilter::try_new(&directives).unwrap_or_else(|err| {
            eprintln!(
                "fulcio: ignoring {}={directives:?} ({err}); logging at info",
                EnvFilter::DEFAULT_ENV
            );
            EnvFilter::new("info")
        }),
        Err(_) => EnvFilter::new("info"),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match log_type {
        LogType::Dev => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stdout)
                    .with_ansi(std::io::stdout().is_terminal())
                    .with_target(false),
            )
            .try_init(),
        LogType::Prod => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                    .event_format(ZapProductionJson),
            )
            .try_init(),
    };
}

/// One JSON line per event with zap production's keys.
struct ZapProductionJson;

impl<S, N> FormatEvent<S, N> for ZapProductionJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut object = Map::new();
        object.insert(
            "severity".into(),
            Value::from(event.metadata().level().as_str().to_ascii_lowercase()),
        );
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        object.insert("ts".into(), Value::from(ts));
        if let (Some(file), Some(line)) = (event.metadata().file(), event.metadata().line()) {
            object.insert("caller".into(), Value::from(format!("{file}:{line}")));
        }
        // Span fields (outermost first) so the event's own fields win on a clash.
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(fields)
                {
                    object.extend(map);
                }
            }
        }
        let mut visitor = JsonVisitor(&mut object);
        event.record(&mut visitor);
        let line = serde_json::to_string(&Value::Object(object)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{line}")
    }
}

/// Collects an event's fields; the `message` field keeps its name, as zap's `message` key.
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl tracing::field::Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}
