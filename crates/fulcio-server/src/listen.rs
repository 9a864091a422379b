//! Listeners (Fulcio spec §7): HTTP and gRPC on two ports (upstream's default 8080/8081), or
//! one "duplex" port serving both, routed by content type; Prometheus metrics on a third port.
//! Connections idle longer than `--idle-connection-timeout` are closed gracefully; shutdown
//! stops accepting and lets in-flight requests finish.
//!
//! With [`ServerBuilder::grpc_tls`] (`--grpc-tls-certificate`/`--grpc-tls-key`) the gRPC port
//! speaks TLS 1.3 only, with a certificate reloaded when its files change ([`crate::tls`]).
//! With split ports that is the gRPC port alone, as upstream; the HTTP and metrics ports stay
//! cleartext. With a duplex port, which carries gRPC too, the whole port is TLS: HTTP clients
//! then use `https://` (ALPN offers `h2` and `http/1.1`). Each handshake runs on the
//! connection's own task and is abandoned after [`TLS_HANDSHAKE_TIMEOUT`], so a client that
//! never completes one holds nothing but its own socket.
//!
//! The library entry point is [`Server::builder`]; [`RunningServer::startup_line`] is the line
//! the `fulcio` binary prints once bound.

use std::{
    convert::Infallible,
    fmt,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, body::Body, extract::Request, response::Response, routing::get};
use futures::future::BoxFuture;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
    service::TowerToHyperService,
};
use parking_lot::Mutex;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::{TcpListener, TcpStream},
    sync::{mpsc, watch},
    time::Instant,
};
use tokio_rustls::TlsAcceptor;

use crate::{
    issuance::Issuance,
    overload::{DEFAULT_MAX_IN_FLIGHT_REQUESTS, InFlightLimit},
    tls::{GrpcTls, TlsError},
};

/// Upstream's HTTP `ReadHeaderTimeout` on the API ports.
const API_READ_HEADER_TIMEOUT: Duration = Duration::from_secs(60);

/// How long shutdown waits for in-flight requests before giving up on them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take over its TLS handshake before the connection is dropped.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A host and port to listen on. The host is a name or an address, as in upstream's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddress {
    /// Host name or IP address (`0.0.0.0`, `127.0.0.1`, `localhost`, `::`).
    pub host: String,
    /// Port; 0 picks a free one.
    pub port: u16,
}

impl ListenAddress {
    /// `host:port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }
}

impl fmt::Display for ListenAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Which API listeners to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listeners {
    /// HTTP and gRPC on separate ports; the legacy gRPC service is not exposed (upstream keeps
    /// it on a Unix socket only its gateway dials; ours calls the legacy code in-process).
    Split {
        /// `--host`/`--port`.
        http: ListenAddress,
        /// `--grpc-host`/`--grpc-port`.
        grpc: ListenAddress,
    },
    /// One port for both, with the legacy gRPC service registered too.
    Duplex(ListenAddress),
}

impl Listeners {
    /// Upstream's rule: one duplex listener when host and port of HTTP and gRPC are equal as
    /// written (so `--port 0 --grpc-port 0` on the same host is duplex).
    pub fn from_flags(http: ListenAddress, grpc: ListenAddress) -> Self {
        if http == grpc {
            Self::Duplex(http)
        } else {
            Self::Split { http, grpc }
        }
    }
}

/// Failure to start serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A listener could not be bound.
    #[error("listening on {address}: {source}")]
    Bind {
        /// What was asked for.
        address: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The metrics recorder could not be installed.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    /// The gRPC TLS certificate or key could not be loaded or watched.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Entry point: `Server::builder(issuance)…bind().await`.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A builder with upstream's defaults: HTTP `0.0.0.0:8080`, gRPC `0.0.0.0:8081`, metrics
    /// `0.0.0.0:2112`, idle timeout 30 s, metrics read-header timeout 10 s; and ours: at most
    /// [`DEFAULT_MAX_IN_FLIGHT_REQUESTS`] certificate requests in flight.
    pub fn builder(issuance: Arc<Issuance>) -> ServerBuilder {
        ServerBuilder {
            issuance,
            listeners: Listeners::Split {
                http: ListenAddress::new("0.0.0.0", 8080),
                grpc: ListenAddress::new("0.0.0.0", 8081),
            },
            metrics: Some(ListenAddress::new("0.0.0.0", 2112)),
            idle_connection_timeout: Duration::from_secs(30),
            metrics_read_header_timeout: Duration::from_secs(10),
            grpc_tls: None,
            max_in_flight_requests: DEFAULT_MAX_IN_FLIGHT_REQUESTS,
        }
    }
}

/// Configures and binds a server; see [`Server::builder`].
#[derive(Debug)]
pub struct ServerBuilder {
    issuance: Arc<Issuance>,
    listeners: Listeners,
    metrics: Option<ListenAddress>,
    idle_connection_timeout: Duration,
    metrics_read_header_timeout: Duration,
    grpc_tls: Option<TlsSource>,
    max_in_flight_requests: usize,
}

/// Where the gRPC TLS certificate comes from.
#[derive(Debug)]
enum TlsSource {
    /// Loaded and watched by `bind`.
    Files { certificate: PathBuf, key: PathBuf },
    /// Loaded by the caller.
    Loaded(GrpcTls),
}

impl ServerBuilder {
    /// The API listeners.
    pub fn listeners(mut self, listeners: Listeners) -> Self {
        self.listeners = listeners;
        self
    }

    /// Separate HTTP and gRPC listeners.
    pub fn split(self, http: ListenAddress, grpc: ListenAddress) -> Self {
        self.listeners(Listeners::Split { http, grpc })
    }

    /// One listener for HTTP and gRPC.
    pub fn duplex(self, address: ListenAddress) -> Self {
        self.listeners(Listeners::Duplex(address))
    }

    /// The metrics listener (`--metrics-port`); `None` serves no metrics.
    pub fn metrics(mut self, address: Option<ListenAddress>) -> Self {
        self.metrics = address;
        self
    }

    /// `--idle-connection-timeout`: HTTP keep-alive idle limit and gRPC max connection idle.
    pub fn idle_connection_timeout(mut self, timeout: Duration) -> Self {
        self.idle_connection_timeout = timeout;
        self
    }

    /// `--read-header-timeout`: only the metrics server uses it, as upstream.
    pub fn metrics_read_header_timeout(mut self, timeout: Duration) -> Self {
        self.metrics_read_header_timeout = timeout;
        self
    }

    /// `--max-in-flight-requests`: how many certificate requests (HTTP v2 and v1 `signingCert`,
    /// gRPC `CreateSigningCertificate`, all listeners together) may be in progress at once;
    /// one more is refused at once with HTTP 503 + `Retry-After: 1` or gRPC `Unavailable`
    /// ([`crate::overload`]). Default [`DEFAULT_MAX_IN_FLIGHT_REQUESTS`]; 0 is taken as 1.
    pub fn max_in_flight_requests(mut self, max: usize) -> Self {
        self.max_in_flight_requests = max;
        self
    }

    /// TLS on the gRPC port (see the module docs for the duplex case), with a certificate
    /// the caller loaded, e.g. with [`GrpcTls::from_files`].
    pub fn grpc_tls(mut self, tls: GrpcTls) -> Self {
        self.grpc_tls = Some(TlsSource::Loaded(tls));
        self
    }

    /// `--grpc-tls-certificate`/`--grpc-tls-key`: TLS on the gRPC port with this PEM chain
    /// and key, loaded by [`ServerBuilder::bind`] (which fails with [`ServeError::Tls`],
    /// naming the file, if they do not load) and reloaded whenever either file changes.
    pub fn grpc_tls_files(
        mut self,
        certificate: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.grpc_tls = Some(TlsSource::Files {
            certificate: certificate.into(),
            key: key.into(),
        });
        self
    }

    /// Binds every listener and starts serving in the background.
    pub async fn bind(self) -> Result<RunningServer, ServeError> {
        // The certificate first: a bad file should fail the start before any port is taken.
        let grpc_tls = match self.grpc_tls {
            None => None,
            Some(TlsSource::Loaded(tls)) => Some(tls),
            Some(TlsSource::Files { certificate, key }) => {
                // Blocks only to read two small files and start the watcher's thread (not
                // `block_in_place`, which a current-thread runtime does not allow).
                Some(GrpcTls::from_files(&certificate, &key)?)
            }
        };
        let acceptor = |alpn: &[&[u8]]| -> Result<Option<TlsAcceptor>, ServeError> {
            match &grpc_tls {
                None => Ok(None),
                Some(tls) => {
                    let config = tls.certificate().server_config(alpn)?;
                    Ok(Some(TlsAcceptor::from(Arc::new(config))))
                }
            }
        };
        let prometheus = crate::metrics::install()?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (done_tx, done_rx) = mpsc::channel::<()>(1);
        let api = ConnectionOptions {
            idle_timeout: self.idle_connection_timeout,
            read_header_timeout: API_READ_HEADER_TIMEOUT,
        };

        let limit = InFlightLimit::new(self.max_in_flight_requests);
        let (http_addr, grpc_addr, duplex) = match &self.listeners {
            Listeners::Duplex(address) => {
                let tls = acceptor(crate::tls::ALPN_GRPC_AND_HTTP)?;
                let listener = bind(address).await?;
                let local = local_addr(&listener, address)?;
                let endpoint = Endpoint::Duplex {
                    grpc: crate::grpc::router(self.issuance.clone(), true, limit.clone()),
                    http: crate::http::router(self.issuance.clone(), limit),
                };
                spawn_accept_loop(listener, endpoint, api, tls, &shutdown_rx, &done_tx);
                (local, local, true)
            }
            Listeners::Split { http, grpc } => {
                let tls = acceptor(crate::tls::ALPN_GRPC)?;
                let http_listener = bind(http).await?;
                let grpc_listener = bind(grpc).await?;
                let http_local = local_addr(&http_listener, http)?;
                let grpc_local = local_addr(&grpc_listener, grpc)?;
                let http_endpoint =
                    Endpoint::Single(crate::http::router(self.issuance.clone(), limit.clone()));
                let grpc_endpoint =
                    Endpoint::Single(crate::grpc::router(self.issuance.clone(), false, limit));
                spawn_accept_loop(
                    http_listener,
                    http_endpoint,
                    api,
                    None,
                    &shutdown_rx,
                    &done_tx,
                );
                spawn_accept_loop(
                    grpc_listener,
                    grpc_endpoint,
                    api,
                    tls,
                    &shutdown_rx,
                    &done_tx,
                );
                (http_local, grpc_local, false)
            }
        };

        let metrics_addr = match &self.metrics {
            Some(address) => {
                let listener = bind(address).await?;
                let local = local_addr(&listener, address)?;
                let router = Router::new().route(
                    "/metrics",
                    get(move || {
                        let prometheus = prometheus.clone();
                        async move { crate::metrics::render(&prometheus) }
                    }),
                );
                let options = ConnectionOptions {
                    idle_timeout: self.idle_connection_timeout,
                    read_header_timeout: self.metrics_read_header_timeout,
                };
                spawn_accept_loop(
                    listener,
                    Endpoint::Single(router),
                    options,
                    None,
                    &shutdown_rx,
                    &done_tx,
                );
                Some(local)
            }
            None => None,
        };

        Ok(RunningServer {
            http_addr,
            grpc_addr,
            metrics_addr,
            duplex,
            grpc_tls,
            shutdown_tx,
            done_rx,
        })
    }
}

/// A bound, serving server. Dropping it without [`RunningServer::shutdown`] leaves the
/// listeners serving until the runtime ends.
#[derive(Debug)]
pub struct RunningServer {
    /// Where the HTTP API listens.
    pub http_addr: SocketAddr,
    /// Where gRPC listens (equal to `http_addr` in duplex mode).
    pub grpc_addr: SocketAddr,
    /// Where `/metrics` listens, if enabled.
    pub metrics_addr: Option<SocketAddr>,
    duplex: bool,
    /// Kept for its watcher, which stops when the server is dropped.
    grpc_tls: Option<GrpcTls>,
    shutdown_tx: watch::Sender<bool>,
    done_rx: mpsc::Receiver<()>,
}

impl RunningServer {
    /// Whether HTTP and gRPC share one listener.
    pub fn is_duplex(&self) -> bool {
        self.duplex
    }

    /// Whether the gRPC port speaks TLS (in duplex mode, the shared port).
    pub fn is_grpc_tls(&self) -> bool {
        self.grpc_tls.is_some()
    }

    /// Whether the HTTP API port speaks TLS: only when it is a duplex port with gRPC TLS.
    pub fn is_http_tls(&self) -> bool {
        self.duplex && self.grpc_tls.is_some()
    }

    /// The gRPC TLS certificate in use, if any (for its reload counts).
    pub fn grpc_tls(&self) -> Option<&GrpcTls> {
        self.grpc_tls.as_ref()
    }

    /// The line the `fulcio` binary prints to stderr once every listener is bound:
    ///
    /// ```text
    /// fulcio: serving HTTP on <http addr>, gRPC on <grpc addr>, metrics on <metrics addr>
    /// ```
    ///
    /// Each address is `ip:port` as bound (`[ip]:port` for IPv6), with the real port when 0 was
    /// asked for. In duplex mode the HTTP and gRPC addresses are the same. Without a metrics
    /// listener the last part reads `metrics off`. A port that speaks TLS has ` (TLS)` after
    /// its name: `gRPC (TLS) on <addr>`, and in duplex mode `HTTP (TLS) on <addr>` too.
    pub fn startup_line(&self) -> String {
        let metrics = self
            .metrics_addr
            .map_or_else(|| "metrics off".to_owned(), |a| format!("metrics on {a}"));
        let tls = |on: bool| if on { " (TLS)" } else { "" };
        format!(
            "fulcio: serving HTTP{} on {}, gRPC{} on {}, {metrics}",
            tls(self.is_http_tls()),
            self.http_addr,
            tls(self.is_grpc_tls()),
            self.grpc_addr
        )
    }

    /// Stops accepting, lets in-flight requests finish (up to 30 s), and returns.
    pub async fn shutdown(self) {
        self.run_until(std::future::ready(())).await;
    }

    /// Serves until `signal` completes, then shuts down as [`RunningServer::shutdown`] does.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) {
        signal.await;
        tracing::info!("shutting down");
        // Receivers only go away when every task has ended, which is what we wait for next.
        let _ = self.shutdown_tx.send(true);
        // Each accept loop and connection holds a sender; `recv` yields `None` once all are gone.
        if tokio::time::timeout(DRAIN_TIMEOUT, self.done_rx.recv())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; stopping anyway");
        }
        tracing::info!("server stopped");
    }
}

async fn bind(address: &ListenAddress) -> Result<TcpListener, ServeError> {
    TcpListener::bind((address.host.as_str(), address.port))
        .await
        .map_err(|source| ServeError::Bind {
            address: address.to_string(),
            source,
        })
}

fn local_addr(listener: &TcpListener, address: &ListenAddress) -> Result<SocketAddr, ServeError> {
    listener.local_addr().map_err(|source| ServeError::Bind {
        address: address.to_string(),
        source,
    })
}

/// Per-connection settings.
#[derive(Debug, Clone, Copy)]
struct ConnectionOptions {
    idle_timeout: Duration,
    read_header_timeout: Duration,
}

/// What one listener serves.
#[derive(Debug, Clone)]
enum Endpoint {
    /// One router for every request.
    Single(Router),
    /// gRPC requests (HTTP/2 with `content-type: application/grpc…`) to `grpc`, the rest to
    /// `http`, the same test upstream's duplex server makes.
    Duplex { grpc: Router, http: Router },
}

impl Endpoint {
    fn route(&self, request: &Request) -> Router {
        match self {
            Self::Single(router) => router.clone(),
            Self::Duplex { grpc, http } => {
                let is_grpc = request.version() == http::Version::HTTP_2
                    && request
                        .headers()
                        .get(http::header::CONTENT_TYPE)
                        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
                if is_grpc { grpc.clone() } else { http.clone() }
            }
        }
    }
}

fn spawn_accept_loop(
    listener: TcpListener,
    endpoint: Endpoint,
    options: ConnectionOptions,
    tls: Option<TlsAcceptor>,
    shutdown: &watch::Receiver<bool>,
    done: &mpsc::Sender<()>,
) {
    let mut shutdown = shutdown.clone();
    let done = done.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        // Small request/response exchanges: do not wait for Nagle.
                        let _ = stream.set_nodelay(true);
                        let endpoint = endpoint.clone();
                        let (shutdown, done) = (shutdown.clone(), done.clone());
                        match &tls {
                            None => {
                                tokio::spawn(serve_connection(stream, endpoint, options, shutdown, done));
                            }
                            Some(acceptor) => {
                                tokio::spawn(serve_tls_connection(
                                    acceptor.clone(), stream, peer, endpoint, options, shutdown, done,
                                ));
                            }
                        }
                    }
                    Err(err) => {
                        // Typically EMFILE; back off instead of spinning.
                        tracing::warn!(error = %err, "accepting connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                () = stopped(&mut shutdown) => break,
            }
        }
        drop(done);
    });
}

/// Completes once shutdown is signalled (or the server handle is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender was dropped: nobody can ask for shutdown any more, so treat it
    // as shutdown too rather than serving forever unmanaged.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Completes the TLS handshake (within [`TLS_HANDSHAKE_TIMEOUT`], and unless shutdown comes
/// first), then serves the connection as [`serve_connection`] does.
async fn serve_tls_connection(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    endpoint: Endpoint,
    options: ConnectionOptions,
    mut shutdown: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
) {
    let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
    let stream = tokio::select! {
        result = handshake => match result {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                tracing::debug!(%peer, error = %err, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out after {TLS_HANDSHAKE_TIMEOUT:?}");
                return;
            }
        },
        () = stopped(&mut shutdown) => return,
    };
    serve_connection(stream, endpoint, options, shutdown, done).await;
}

async fn serve_connection<S>(
    stream: S,
    endpoint: Endpoint,
    options: ConnectionOptions,
    mut shutdown: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let service = TowerToHyperService::new(TrackedEndpoint {
        endpoint,
        activity: activity.clone(),
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.read_header_timeout);
    builder.http2().timer(TokioTimer::new());
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
                break;
            }
            () = stopped(&mut shutdown), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = activity.idle_for(options.idle_timeout), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
    drop(done);
}

/// In-flight requests and the time of the last request start or end, for the idle timeout.
#[derive(Debug)]
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
        }
    }

    fn touch(&self) {
        *self.last.lock() = Instant::now();
    }

    /// Completes once no request has been in flight for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let deadline = *self.last.lock() + timeout;
            tokio::time::sleep_until(deadline).await;
            let idle_since = *self.last.lock();
            if self.in_flight.load(Ordering::Acquire) == 0 && idle_since + timeout <= Instant::now()
            {
                return;
            }
            if idle_since + timeout <= Instant::now() {
                // Busy with a long request: look again a full period later.
                tokio::time::sleep(timeout).await;
            }
        }
    }
}

/// The endpoint of one connection, counting its requests for the idle timeout.
#[derive(Debug, Clone)]
struct TrackedEndpoint {
    endpoint: Endpoint,
    activity: Arc<Activity>,
}

impl tower::Service<http::Request<hyper::body::Incoming>> for TrackedEndpoint {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Routers are always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<hyper::body::Incoming>) -> Self::Future {
        let request = request.map(Body::new);
        let router = self.endpoint.route(&request);
        let activity = self.activity.clone();
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        Box::pin(async move {
            let response = tower::ServiceExt::oneshot(router, request).await;
            activity.in_flight.fetch_sub(1, Ordering::AcqRel);
            activity.touch();
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplex_only_when_host_and_port_are_equal() {
        let a = ListenAddress::new("0.0.0.0", 5555);
        assert!(matches!(
            Listeners::from_flags(a.clone(), a.clone()),
            Listeners::Duplex(_)
        ));
        let b = ListenAddress::new("0.0.0.0", 5554);
        assert!(matches!(
            Listeners::from_flags(a.clone(), b),
            Listeners::Split { .. }
        ));
        let c = ListenAddress::new("127.0.0.1", 5555);
        assert!(matches!(
            Listeners::from_flags(a, c),
            Listeners::Split { .. }
        ));
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(ListenAddress::new("::1", 80).to_string(), "[::1]:80");
        assert_eq!(
            ListenAddress::new("localhost", 80).to_string(),
            "localhost:80"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn idle_waits_for_in_flight_requests() {
        let activity = Activity::new();
        activity.in_flight.store(1, Ordering::Release);
        let idle = activity.idle_for(Duration::from_secs(30));
        tokio::pin!(idle);
        assert!(
            tokio::time::timeout(Duration::from_secs(90), idle.as_mut())
                .await
                .is_err()
        );
        activity.in_flight.store(0, Ordering::Release);
        activity.touch();
        assert!(
            tokio::time::timeout(Duration::from_secs(61), idle.as_mut())
                .await
                .is_ok()
        );
    }
}
