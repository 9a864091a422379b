//! The `fulcio` command: the CA (`serve`, Fulcio spec §7), its CT log (`ctlog serve`), a local
//! instance to try it (`dev`), and the signer's side (`request`, `verify`, `trust-root`, on the
//! `fulcio-client` library). Logging is set up here and errors become a message on stderr and a
//! non-zero exit status; the libraries never print or exit.

mod createca;
mod ctlog;
mod dev;
mod go_duration;
mod logging;
mod private_file;
mod request;
mod serve;
mod settings_file;
mod trust_root;
mod verify;
mod version;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

/// mimalloc instead of the system allocator: issuing a certificate makes a few hundred small
/// allocations across the runtime's threads, and glibc's malloc spent ~15 % of the server's
/// CPU on them under load, some of it contending on arena locks (docs/performance.md,
/// "Allocator"). Built without its transparent-huge-page hints (`no_thp`): with them a
/// lightly loaded server's RSS tripled (30 → 90 MiB after two seconds of one client).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Fulcio generates certificates that can be used to sign software artifacts
#[derive(Debug, Parser)]
#[command(name = "fulcio", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// start http server with configured api
    Serve(Box<serve::ServeArgs>),
    /// Certificate Transparency log commands
    Ctlog {
        /// The ctlog subcommand.
        #[command(subcommand)]
        command: ctlog::CtlogCommand,
    },
    /// Create a root CA (and optionally its key and an intermediate) in a PKCS#11 token
    Createca(Box<createca::CreateCaArgs>),
    /// Run a CA, its CT log and a local identity provider on loopback, for trying things
    Dev(Box<dev::DevArgs>),
    /// Get a signing certificate for a key, and verify it before writing it
    Request(Box<request::RequestArgs>),
    /// Verify a certificate against a trusted root (chain, validity, SCT, identity policy)
    Verify(Box<verify::VerifyArgs>),
    /// Write trusted_root.json and signing_config.json for a running instance
    TrustRoot(Box<trust_root::TrustRootArgs>),
    /// Prints the version
    Version {
        /// print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let (cli, unknown_settings) = match parse() {
        Ok(parsed) => parsed,
        Err(err) => {
            eprintln!("Error: {err}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Version { json } => {
            print!("{}", version::report(json));
            if json {
                println!();
            }
            ExitCode::SUCCESS
        }
        Command::Createca(args) => createca::main(*args),
        Command::Dev(args) => dev::main(*args),
        Command::Request(args) => request::main(*args),
        Command::Verify(args) => verify::main(*args),
        Command::TrustRoot(args) => trust_root::main(*args),
        Command::Serve(args) => {
            logging::init(args.log_type);
            for key in unknown_settings {
                tracing::warn!(key, "config file: ignoring a setting that names no flag");
            }
            run_async("fulcio serve", serve::run(*args))
        }
        Command::Ctlog {
            command: ctlog::CtlogCommand::Serve(args),
        } => {
            logging::init(args.log_type);
            run_async("fulcio ctlog serve", ctlog::serve(args))
        }
    }
}

/// Runs `work` on a multi-threaded runtime; an error becomes a message and exit status 1.
fn run_async<E: std::fmt::Display>(
    what: &str,
    work: impl std::future::Future<Output = Result<(), E>>,
) -> ExitCode {
    let runtime = match new_runtime(true) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "{what} failed");
            eprintln!("Error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// A tokio runtime (multi-threaded or on this thread); a failure to start one is reported on
/// stderr and becomes exit status 1.
pub(crate) fn new_runtime(multi_thread: bool) -> Result<tokio::runtime::Runtime, ExitCode> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().map_err(|err| {
        eprintln!("Error: starting the async runtime: {err}");
        ExitCode::FAILURE
    })
}

/// Parses the command line; for `serve -c FILE`, parses again with the file's settings filling
/// the flags left at their defaults. Usage errors (and `--help`) exit through clap.
fn parse() -> Result<(Cli, Vec<String>), settings_file::SettingsFileError> {
    let args: Vec<String> = std::env::args().collect();
    let command = Cli::command();
    let matches = command.clone().get_matches_from(&args);
    let file = match matches.subcommand() {
        Some(("serve", serve_matches)) => {
            match serve_matches.get_one::<std::path::PathBuf>("config") {
                Some(path) => {
                    let serve = command
                        .find_subcommand("serve")
                        .cloned()
                        .unwrap_or_default();
                    settings_file::arguments_from_file(path, &serve, serve_matches)?
                }
                None => settings_file::FileSettings::default(),
            }
        }
        _ => settings_file::FileSettings::default(),
    };
    let matches = if file.arguments.is_empty() {
        matches
    } else {
        command.get_matches_from(args.into_iter().chain(file.arguments))
    };
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.exit())?;
    Ok((cli, file.unknown_keys))
}
