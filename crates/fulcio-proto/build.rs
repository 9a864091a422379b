//! Generates the Fulcio API types from `proto/`: protox parses the `.proto` files (no `protoc`
//! binary needed), tonic-prost-build emits the prost messages and tonic services, and
//! pbjson-build emits serde impls with protojson semantics (spec/fulcio.md §1.2).

use std::{env, error::Error, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &["fulcio.proto", "fulcio_legacy.proto"];

fn main() -> Result<(), Box<dyn Error>> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=proto");

    let fds = protox::compile(PROTOS, ["proto"])?;
    let descriptor_bytes = fds.encode_to_vec();
    std::fs::write(out_dir.join("fulcio_descriptor.bin"), &descriptor_bytes)?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Field docs in generated code come from our own proto comments.
        .emit_rerun_if_changed(false)
        .compile_fds(fds)?;

    // grpc-gateway's protojson settings: every field is emitted even at its zero value
    // (EmitUnpopulated), unknown input fields are skipped (DiscardUnknown). pbjson already emits
    // lowerCamelCase names, accepts both camelCase and the proto names on input, writes enums
    // by name, and writes bytes as standard base64 (accepting URL-safe and unpadded input).
    // Only our packages: google.api.HttpBody never travels as JSON.
    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        .emit_fields()
        .ignore_unknown_fields()
        .build(&[".dev.sigstore.fulcio"])?;
    Ok(())
}
