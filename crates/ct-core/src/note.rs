//! Signed notes (c2sp.org/signed-note): a text signed by one or more keys, the envelope of
//! checkpoints.
//!
//! ```text
//! <text, ending in a newline>
//! <blank line>
//! — <key name> base64(uint32 key ID || signature)
//! ...
//! ```
//!
//! Parsing is strict: valid UTF-8 without control characters other than newline, a text that
//! ends in a newline, at least one well-formed signature line after the last blank line, each
//! ending in a newline, with canonical base64. This module knows nothing about signature
//! algorithms; [`crate::checkpoint`] verifies the RFC 6962 kind.

use aws_lc_rs::digest;
use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};

/// The most signature lines a note may carry. signed-note asks verifiers to bound this and to
/// accept at least 16; witnesses and grease signatures stay far below 100.
pub const MAX_SIGNATURES: usize = 100;

/// The start of a signature line: an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a note, or a part of one, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is not UTF-8.
    #[error("note is not valid UTF-8")]
    NotUtf8,
    /// An ASCII control character other than newline.
    #[error("note contains a control character")]
    ControlCharacter,
    /// No blank line separates a text from signatures, or the text is empty.
    #[error("note has no text and signature block separated by a blank line")]
    MissingSeparator,
    /// The text does not end in a newline (only checked when encoding).
    #[error("note text must end with a newline")]
    TextWithoutNewline,
    /// The note does not end with a newline-terminated signature line.
    #[error("note signature block is empty or does not end with a newline")]
    MalformedSignatureBlock,
    /// A signature line that is not `— <name> <base64>`.
    #[error("malformed signature line")]
    MalformedSignatureLine,
    /// A key name that is empty or contains a Unicode space or a plus sign.
    #[error("invalid key name")]
    InvalidKeyName,
    /// Base64 that does not decode canonically, or decodes to fewer than 5 bytes (key ID plus
    /// at least one signature byte).
    #[error("invalid signature encoding")]
    InvalidSignatureEncoding,
    /// More than [`MAX_SIGNATURES`] signatures.
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The 32-bit key ID (big-endian in the encoding).
    pub key_id: u32,
    /// The signature bytes after the key ID; their format depends on the key's algorithm.
    pub signature: Vec<u8>,
}

/// A parsed signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline.
    pub text: String,
    /// The signatures, in note order.
    pub signatures: Vec<NoteSignature>,
}

/// The recommended key ID (signed-note "Signatures"): the first four bytes, big-endian, of
/// `SHA-256(name || 0x0A || signature_type || public_key)`.
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8]) -> u32 {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(b"\n");
    ctx.update(&[signature_type]);
    ctx.update(public_key);
    let hash = ctx.finish();
    let mut id = [0u8; 4];
    id.copy_from_slice(&hash.as_ref()[..4]);
    u32::from_be_bytes(id)
}

/// Checks a key name: non-empty, without Unicode spaces, `+` or control characters.
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(NoteError::InvalidKeyName);
    }
    Ok(())
}

fn check_characters(s: &str) -> Result<(), NoteError> {
    if s.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return Err(NoteError::ControlCharacter);
    }
    Ok(())
}

impl NoteSignature {
    fn parse_line(line: &str) -> Result<Self, NoteError> {
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(NoteError::MalformedSignatureLine)?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(NoteError::MalformedSignatureLine)?;
        check_key_name(name)?;
        // The base64 alphabet has no spaces; a second space means a malformed line.
        if b64.contains(' ') {
            return Err(NoteError::MalformedSignatureLine);
        }
        let bytes = BASE64
            .decode(b64)
            .map_err(|_| NoteError::InvalidSignatureEncoding)?;
        if bytes.len() < 5 {
            return Err(NoteError::InvalidSignatureEncoding);
        }
        let (id, signature) = bytes.split_at(4);
        let mut key_id = [0u8; 4];
        key_id.copy_from_slice(id);
        Ok(Self {
            name: name.to_owned(),
            key_id: u32::from_be_bytes(key_id),
            signature: signature.to_vec(),
        })
    }

    fn encode_line(&self, out: &mut String) -> Result<(), NoteError> {
        check_key_name(&self.name)?;
        if self.signature.is_empty() {
            return Err(NoteError::InvalidSignatureEncoding);
        }
        let mut bytes = Vec::with_capacity(4 + self.signature.len());
        bytes.extend_from_slice(&self.key_id.to_be_bytes());
        bytes.extend_from_slice(&self.signature);
        out.push_str(SIGNATURE_PREFIX);
        out.push_str(&self.name);
        out.push(' ');
        out.push_str(&BASE64.encode(bytes));
        out.push('\n');
        Ok(())
    }
}

impl Note {
    /// Parses a signed note. Signatures are only decoded, not verified.
    pub fn parse(note: &[u8]) -> Result<Self, NoteError> {
        let note = std::str::from_utf8(note).map_err(|_| NoteError::NotUtf8)?;
        check_characters(note)?;
        // The text is separated from the signatures by the last blank line; the text keeps its
        // final newline.
        let split = note.rfind("\n\n").ok_or(NoteError::MissingSeparator)?;
        let (text, block) = (&note[..=split], &note[split + 2..]);
        let lines = block
            .strip_suffix('\n')
            .ok_or(NoteError::MalformedSignatureBlock)?;
        if lines.is_empty() {
            return Err(NoteError::MalformedSignatureBlock);
        }
        let mut signatures = Vec::new();
        for line in lines.split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            signatures.push(NoteSignature::parse_line(line)?);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note's encoding: text, blank line, signature lines. Checks the same rules as
    /// [`Note::parse`], so what this writes parses back to the same note.
    pub fn encode(&self) -> Result<String, NoteError> {
        check_characters(&self.text)?;
        if !self.text.ends_with('\n') {
            return Err(NoteError::TextWithoutNewline);
        }
        if self.signatures.is_empty() {
            return Err(NoteError::MalformedSignatureBlock);
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let mut out = String::with_capacity(self.text.len() + 1 + 100 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for sig in &self.signatures {
            sig.encode_line(&mut out)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of c2sp.org/signed-note, whose vkey is
    /// `example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k`.
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn parses_the_spec_example_and_its_key_id() {
        let note = Note::parse(SPEC_NOTE.as_bytes()).unwrap();
        assert_eq!(note.text, "This is an example message.\n");
        assert_eq!(note.signatures.len(), 1);
        assert_eq!(note.signatures[0].name, "example.com/foo");
        assert_eq!(note.signatures[0].key_id, 0x530d903a);
        assert_eq!(note.signatures[0].signature.len(), 64);
        assert_eq!(note.encode().unwrap(), SPEC_NOTE);
        // The vkey's base64 is 0x01 || Ed25519 public key; its key ID is the recommended one.
        let vkey = BASE64
            .decode("AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
            .unwrap();
        assert_eq!(key_id("example.com/foo", vkey[0], &vkey[1..]), 0x530d903a);
    }

    #[test]
    fn text_may_hold_blank_lines_the_last_one_separates() {
        let sig = "\u{2014} a/b AAAAAAE=\n";
        let note = Note::parse(format!("x\n\ny\n\n{sig}").as_bytes()).unwrap();
        assert_eq!(note.text, "x\n\ny\n");
    }

    #[test]
    fn malformed_notes() {
        let sig = "\u{2014} a/b AAAAAAE=\n";
        let cases: Vec<(String, NoteError)> = vec![
            (format!("x\n{sig}"), NoteError::MissingSeparator),
            ("x\n\n".to_owned(), NoteError::MalformedSignatureBlock),
            (
                format!("x\n\n{}", sig.trim_end()),
                NoteError::MalformedSignatureBlock,
            ),
            (format!("x\n\n{sig}\n"), NoteError::MalformedSignatureBlock),
            (
                "x\n\n- a/b AAAAAAE=\n".to_owned(),
                NoteError::MalformedSignatureLine,
            ),
            (
                "x\n\n\u{2014} a/b\n".to_owned(),
                NoteError::MalformedSignatureLine,
            ),
            (
                "x\n\n\u{2014} a/b AAAAAAE= \n".to_owned(),
                NoteError::MalformedSignatureLine,
            ),
            (
                "x\n\n\u{2014}  AAAAAAE=\n".to_owned(),
                NoteError::InvalidKeyName,
            ),
            (
                "x\n\n\u{2014} a+b AAAAAAE=\n".to_owned(),
                NoteError::InvalidKeyName,
            ),
            (
                "x\n\n\u{2014} a\u{a0}b AAAAAAE=\n".to_owned(),
                NoteError::InvalidKeyName,
            ),
            (
                "x\n\n\u{2014} a/b AAAAAA==\n".to_owned(),
                NoteError::InvalidSignatureEncoding,
            ),
            (
                "x\n\n\u{2014} a/b AAAAAAF=\n".to_owned(),
                NoteError::InvalidSignatureEncoding,
            ),
            (
                "x\n\n\u{2014} a/b AAAAAAE\n".to_owned(),
                NoteError::InvalidSignatureEncoding,
            ),
            (format!("x\r\n\n{sig}"), NoteError::ControlCharacter),
            (format!("x\t\n\n{sig}"), NoteError::ControlCharacter),
        ];
        for (note, want) in cases {
            assert_eq!(Note::parse(note.as_bytes()), Err(want), "{note:?}");
        }
        assert_eq!(Note::parse(b"x\n\n\xff"), Err(NoteError::NotUtf8));
        let many = format!("x\n\n{}", sig.repeat(MAX_SIGNATURES + 1));
        assert_eq!(
            Note::parse(many.as_bytes()),
            Err(NoteError::TooManySignatures)
        );
        let enough = format!("x\n\n{}", sig.repeat(MAX_SIGNATURES));
        assert!(Note::parse(enough.as_bytes()).is_ok());
    }
}
