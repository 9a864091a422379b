//! PEM encoding of certificates exactly as Go's `pem.Encode` writes them: `CERTIFICATE`
//! blocks, 64-column base64 lines, LF line endings, a trailing newline.

/// The PEM text of one DER certificate.
pub fn encode(der: &[u8]) -> String {
    let block = pem::Pem::new("CERTIFICATE", der.to_vec());
    // The pem crate defaults to CRLF; Go and every Sigstore client write LF.
    pem::encode_config(
        &block,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn lf_lines_of_64_and_trailing_newline() {
        let text = super::encode(&[0u8; 100]);
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(text.ends_with("-----END CERTIFICATE-----\n"));
        assert!(!text.contains('\r'));
        let body: Vec<&str> = text
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("-----"))
            .collect();
        assert_eq!(body[0].len(), 64);
        assert_eq!(body.concat().len(), 136);
    }
}
