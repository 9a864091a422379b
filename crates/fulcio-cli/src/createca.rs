//! `fulcio createca`: make the CA's root in a PKCS#11 token (upstream's flags), and beyond
//! upstream, the key pair and an intermediate. (Contract stub: the implementation replaces this
//! file.)

use std::process::ExitCode;

use clap::Args;

/// The flags of `fulcio createca`.
#[derive(Debug, Clone, Args)]
pub struct CreateCaArgs {}

/// Runs `fulcio createca`.
pub fn main(args: CreateCaArgs) -> ExitCode {
    let _ = args;
    eprintln!("Error: fulcio createca is not implemented yet");
    ExitCode::FAILURE
}
