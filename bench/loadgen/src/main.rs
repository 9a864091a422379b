//! `fulcio-loadgen`: drives a running fulcio server with concurrent `/api/v2/signingCert`
//! requests and reports throughput, latency and server resource use next to the crypto limit
//! (the public-key operations one certificate needs, measured here on all cores). See
//! README.md for the workflow.

mod cli;
mod ct_stub;
mod ct_submit;
mod error;
mod issuer;
mod limit;
mod proc_stats;
mod report;
mod request;
mod run;
mod token;

use clap::Parser as _;

use crate::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fulcio-loadgen: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Issuer(args) => issuer::serve(args).await,
            Command::Run(args) => run::run(args).await,
            Command::Limit(args) => limit::command(args),
            Command::CtStub(args) => ct_stub::serve(args).await,
            Command::CtSubmit(args) => ct_submit::run(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fulcio-loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
