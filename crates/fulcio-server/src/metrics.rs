//! Prometheus metrics with upstream's names and labels (Fulcio spec §7): the issuance counter,
//! the HTTP latency histogram and request counter of the gateway, build info, and the
//! go-grpc-prometheus server metrics. Rendered by our own `/metrics` route on the metrics port.

use std::{
    convert::Infallible,
    sync::OnceLock,
    task::{Context, Poll},
    time::Instant,
};

use axum::{body::Body, extract::Request, middleware::Next, response::Response};
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body::Frame;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Metric names, as upstream registers them.
pub mod names {
    /// Counter: certificates issued.
    pub const NEW_CERTS: &str = "fulcio_new_certs";
    /// Histogram (labels `code`, `method`): HTTP handler latency in seconds.
    pub const API_LATENCY: &str = "fulcio_api_latency";
    /// Counter (labels `code`, `method`): HTTP requests.
    pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
    /// Gauge = 1 (labels `version`, `revision`, `build_date`, `goversion`).
    pub const BUILD_INFO: &str = "fulcio_build_info";
    /// Counter: issuance requests refused because too many were in flight (ours; upstream
    /// does not shed load).
    pub const SHED_REQUESTS: &str = "fulcio_shed_requests_total";
    /// Counter: RPCs started.
    pub const GRPC_STARTED: &str = "grpc_server_started_total";
    /// Counter: RPCs completed, by `grpc_code`.
    pub const GRPC_HANDLED: &str = "grpc_server_handled_total";
    /// Histogram: RPC handling time in seconds.
    pub const GRPC_HANDLING_SECONDS: &str = "grpc_server_handling_seconds";
    /// Counter: request messages received.
    pub const GRPC_MSG_RECEIVED: &str = "grpc_server_msg_received_total";
    /// Counter: response messages sent.
    pub const GRPC_MSG_SENT: &str = "grpc_server_msg_sent_total";
}

/// Prometheus' default histogram buckets (`prometheus.DefBuckets`), which upstream's
/// histograms use.
const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installing the process-wide recorder failed (another recorder was installed first).
#[derive(Debug, thiserror::Error)]
#[error("installing the metrics recorder: {0}")]
pub struct MetricsError(String);

static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the process-wide Prometheus recorder once, describes upstream's metrics and sets
/// the build-info gauge; later calls return the same handle (several servers in one test
/// process share it).
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    install_with(describe)
}

/// The recorder for a process that runs only a CT log (`fulcio ctlog serve`): the log's
/// `ct_log_*` metrics and the process collector, without Fulcio's series. The first of
/// [`install`] and this to run in a process decides which series are described.
pub fn install_for_ct_log() -> Result<PrometheusHandle, MetricsError> {
    install_with(ct_log::metrics::describe)
}

fn install_with(describe: fn()) -> Result<PrometheusHandle, MetricsError> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(DEFAULT_BUCKETS)
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full(ct_log::metrics::PASS_ENTRIES.to_owned()),
                        ct_log::metrics::PASS_ENTRIES_BUCKETS,
                    )
                })
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full(ct_log::metrics::PASS_SECONDS.to_owned()),
                        ct_log::metrics::PASS_SECONDS_BUCKETS,
                    )
                })
                .map_err(|e| e.to_string())?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|e| e.to_string())?;
            describe();
            start_upkeep(handle.clone()).map_err(|e| format!("starting metrics upkeep: {e}"))?;
            Ok(handle)
        })
        .clone()
        .map_err(MetricsError)
}

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds histogram samples into their buckets every [`UPKEEP_INTERVAL`], on a thread of its
/// own (it outlives any one runtime). The recorder keeps every sample until an upkeep, and
/// only rendering `/metrics` ran one: with nobody scraping, each certificate's latency sample
/// stayed in memory for good (8 bytes and change each: ~2.5 MiB a minute at 5,000
/// certificates/s).
fn start_upkeep(handle: PrometheusHandle) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                handle.run_upkeep();
            }
        })
        .map(drop)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        names::NEW_CERTS,
        "The total number of certificates generated"
    );
    describe_histogram!(names::API_LATENCY, "API Latency on calls");
    describe_counter!(
        names::SHED_REQUESTS,
        "The total number of certificate requests refused because too many were in flight"
    );
    describe_counter!(names::HTTP_REQUESTS_TOTAL, "Count all HTTP requests");
    describe_gauge!(
        names::BUILD_INFO,
        "A metric with a constant '1' value labeled by version, revision, build date and the compiler version from which fulcio was built."
    );
    describe_counter!(
        names::GRPC_STARTED,
        "Total number of RPCs started on the server."
    );
    describe_counter!(
        names::GRPC_HANDLED,
        "Total number of RPCs completed on the server, regardless of success or failure."
    );
    describe_histogram!(
        names::GRPC_HANDLING_SECONDS,
        "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server."
    );
    describe_counter!(
        names::GRPC_MSG_RECEIVED,
        "Total number of RPC stream messages received on the server."
    );
    describe_counter!(
        names::GRPC_MSG_SENT,
        "Total number of gRPC stream messages sent by the server."
    );

    // The embedded CT log's own metrics (`ct_log_*`); recorded only when it runs.
    ct_log::metrics::describe();

    metrics::counter!(names::NEW_CERTS).absolute(0);
    metrics::counter!(names::SHED_REQUESTS).absolute(0);
    metrics::gauge!(
        names::BUILD_INFO,
        "version" => crate::build_info::VERSION,
        "revision" => crate::build_info::REVISION,
        "build_date" => crate::build_info::BUILD_DATE,
        // Upstream reports the Go version here; ours is the compiler's.
        "goversion" => crate::build_info::COMPILER_VERSION,
    )
    .set(1.0);
}

/// The `/metrics` text: everything recorded, then the process collector's lines.
pub fn render(handle: &PrometheusHandle) -> String {
    handle.run_upkeep();
    let mut text = handle.render();
    crate::process_metrics::render_into(&mut text);
    text
}

/// Counts one issuance request refused by [`crate::overload::InFlightLimit`].
pub fn count_shed_request() {
    metrics::counter!(names::SHED_REQUESTS).increment(1);
}

/// HTTP middleware recording `fulcio_api_latency` and `http_requests_total` with promhttp's
/// labels: `code` is the numeric status, `method` the lower-cased request method.
pub async fn record_http(request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_ascii_lowercase();
    let start = Instant::now();
    let response = next.run(request).await;
    let code = response.status().as_u16().to_string();
    let elapsed = start.elapsed().as_secs_f64();
    metrics::histogram!(names::API_LATENCY, "code" => code.clone(), "method" => method.clone())
        .record(elapsed);
    metrics::counter!(names::HTTP_REQUESTS_TOTAL, "code" => code, "method" => method).increment(1);
    response
}

/// The gRPC methods we serve, with go-grpc-prometheus' `grpc_type`.
const GRPC_METHODS: &[(&str, &str, &str)] = &[
    (
        "dev.sigstore.fulcio.v2.CA",
        "CreateSigningCertificate",
        "unary",
    ),
    ("dev.sigstore.fulcio.v2.CA", "GetTrustBundle", "unary"),
    ("dev.sigstore.fulcio.v2.CA", "GetConfiguration", "unary"),
    (
        "dev.sigstore.fulcio.v1beta.CA",
        "CreateSigningCertificate",
        "unary",
    ),
    (
        "dev.sigstore.fulcio.v1beta.CA",
        "GetRootCertificate",
        "unary",
    ),
    ("grpc.health.v1.Health", "Check", "unary"),
    ("grpc.health.v1.Health", "Watch", "server_stream"),
];

/// Every gRPC code name, for pre-registering `grpc_server_handled_total`.
const GRPC_CODES: &[tonic::Code] = &[
    tonic::Code::Ok,
    tonic::Code::Cancelled,
    tonic::Code::Unknown,
    tonic::Code::InvalidArgument,
    tonic::Code::DeadlineExceeded,
    tonic::Code::NotFound,
    tonic::Code::AlreadyExists,
    tonic::Code::PermissionDenied,
    tonic::Code::ResourceExhausted,
    tonic::Code::FailedPrecondition,
    tonic::Code::Aborted,
    tonic::Code::OutOfRange,
    tonic::Code::Unimplemented,
    tonic::Code::Internal,
    tonic::Code::Unavailable,
    tonic::Code::DataLoss,
    tonic::Code::Unauthenticated,
];

/// One served gRPC method, as metric labels.
#[derive(Debug, Clone, Copy)]
struct GrpcMethod {
    service: &'static str,
    method: &'static str,
    kind: &'static str,
}

impl GrpcMethod {
    fn from_path(path: &str) -> Option<Self> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        GRPC_METHODS
            .iter()
            .find(|(s, m, _)| *s == service && *m == method)
            .map(|&(service, method, kind)| Self {
                service,
                method,
                kind,
            })
    }

    fn labels(&self) -> [(&'static str, &'static str); 3] {
        [
            ("grpc_type", self.kind),
            ("grpc_service", self.service),
            ("grpc_method", self.method),
        ]
    }
}

/// Zero-valued counters for every method served, as go-grpc-prometheus' `Register` creates
/// them, so dashboards see the series before the first call.
pub fn preregister_grpc(include_legacy: bool) {
    for &(service, method, kind) in GRPC_METHODS {
        if !include_legacy && service == "dev.sigstore.fulcio.v1beta.CA" {
            continue;
        }
        let m = GrpcMethod {
            service,
            method,
            kind,
        };
        metrics::counter!(names::GRPC_STARTED, &m.labels()).absolute(0);
        metrics::counter!(names::GRPC_MSG_RECEIVED, &m.labels()).absolute(0);
        metrics::counter!(names::GRPC_MSG_SENT, &m.labels()).absolute(0);
        for &code in GRPC_CODES {
            let mut labels = m.labels().to_vec();
            labels.push(("grpc_code", crate::error::code_name(code)));
            metrics::counter!(names::GRPC_HANDLED, &labels).absolute(0);
        }
    }
}

/// Tower layer recording the go-grpc-prometheus server metrics for each RPC. The code is read
/// from `grpc-status` in the response headers (trailers-only answers) or trailers.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcMetricsLayer;

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner }
    }
}

/// See [`GrpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
}

impl<S> tower::Service<Request> for GrpcMetrics<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let method = GrpcMethod::from_path(request.uri().path());
        if let Some(m) = method {
            metrics::counter!(names::GRPC_STARTED, &m.labels()).increment(1);
            // Unary and server-streaming calls carry exactly one request message.
            metrics::counter!(names::GRPC_MSG_RECEIVED, &m.labels()).increment(1);
        }
        let start = Instant::now();
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            let Some(method) = method else {
                return Ok(response);
            };
            let call = PendingCall { method, start };
            let header_code = response
                .headers()
                .get("grpc-status")
                .map(|v| tonic::Code::from_bytes(v.as_bytes()));
            Ok(match header_code {
                Some(code) => {
                    call.finish(code);
                    response
                }
                None => response.map(|body| {
                    Body::new(ObservedBody {
                        inner: body,
                        call: Some(call),
                    })
                }),
            })
        })
    }
}

/// An RPC whose outcome is not known yet.
#[derive(Debug)]
struct PendingCall {
    method: GrpcMethod,
    start: Instant,
}

impl PendingCall {
    fn finish(self, code: tonic::Code) {
        let labels = self.method.labels();
        if code == tonic::Code::Ok && self.method.kind == "unary" {
            metrics::counter!(names::GRPC_MSG_SENT, &labels).increment(1);
        }
        let mut with_code = labels.to_vec();
        with_code.push(("grpc_code", crate::error::code_name(code)));
        metrics::counter!(names::GRPC_HANDLED, &with_code).increment(1);
        metrics::histogram!(names::GRPC_HANDLING_SECONDS, &labels)
            .record(self.start.elapsed().as_secs_f64());
    }
}

/// A response body that records its RPC's outcome when the trailers go by.
struct ObservedBody {
    inner: Body,
    call: Option<PendingCall>,
}

impl http_body::Body for ObservedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    let code = trailers
                        .get("grpc-status")
                        .map_or(tonic::Code::Unknown, |v| {
                            tonic::Code::from_bytes(v.as_bytes())
                        });
                    if let Some(call) = self.call.take() {
                        call.finish(code);
                    }
                }
            }
            Poll::Ready(None) => {
                // A body that ends without trailers carried no status: gRPC calls that Unknown.
                if let Some(call) = self.call.take() {
                    call.finish(tonic::Code::Unknown);
                }
            }
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ObservedBody {
    fn drop(&mut self) {
        // The client went away before the status was sent.
        if let Some(call) = self.call.take() {
            call.finish(tonic::Code::Cancelled);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_methods_are_recognised() {
        let m = GrpcMethod::from_path("/dev.sigstore.fulcio.v2.CA/GetTrustBundle");
        assert_eq!(
            m.map(|m| (m.service, m.method, m.kind)),
            Some(("dev.sigstore.fulcio.v2.CA", "GetTrustBundle", "unary"))
        );
        assert!(GrpcMethod::from_path("/grpc.health.v1.Health/List").is_none());
        assert!(GrpcMethod::from_path("nonsense").is_none());
    }
}
