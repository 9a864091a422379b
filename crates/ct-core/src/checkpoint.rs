//! Checkpoints (c2sp.org/tlog-checkpoint) signed with the RFC 6962 note signature type of
//! c2sp.org/static-ct-api: the `/checkpoint` a static CT log serves.
//!
//! The body is three lines, origin, decimal tree size and base64 root hash; the log's signature
//! line is named after the origin and carries key ID `SHA-256(origin || 0x0A || 0x05 ||
//! LogID)[:4]` and `RFC6962NoteSignature { uint64 timestamp; digitally-signed
//! TreeHeadSignature }`. That is the signature of the `get-sth` answer, so a signed tree head
//! converts to a checkpoint and back without the private key.
//!
//! The origin is not covered by the signature (the `TreeHeadSignature` has no field for it), so
//! verifiers must compare it with the origin they expect, as [`verify_checkpoint`] does.

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};

use crate::{
    CtError,
    log_key::{LogPublicKey, LogSigningKey},
    merkle::{HASH_SIZE, Hash},
    note::{Note, NoteError, NoteSignature, check_key_name, key_id},
    sct::DigitallySigned,
    sth::{SignedTreeHead, TreeHead},
    tls::Reader,
};

/// The signed-note signature type of RFC 6962 `TreeHeadSignature`s (signed-note "Signature
/// types", static-ct-api "Checkpoints").
pub const RFC6962_SIGNATURE_TYPE: u8 = 0x05;

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note envelope is malformed.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The body is not origin, size and root lines (plus non-empty extension lines).
    #[error("malformed checkpoint body: {0}")]
    MalformedBody(&'static str),
    /// The origin is not the one the verifier expects.
    #[error("checkpoint origin {found:?} is not {expected:?}")]
    OriginMismatch {
        /// The origin the caller expects.
        expected: String,
        /// The origin line found.
        found: String,
    },
    /// static-ct-api forbids extension lines in checkpoints signed with the RFC 6962 type.
    #[error("RFC 6962 checkpoints must not carry extension lines")]
    ExtensionLines,
    /// No signature by the log's key (name = origin, key ID of the log's RFC 6962 key).
    #[error("checkpoint has no signature by the log key")]
    MissingLogSignature,
    /// More than one signature by the log's key: the note would carry two tree heads.
    #[error("checkpoint has more than one signature by the log key")]
    DuplicateLogSignature,
    /// The log's note signature is not a `RFC6962NoteSignature`.
    #[error("malformed RFC 6962 note signature")]
    MalformedSignature,
}

/// A checkpoint body (c2sp.org/tlog-checkpoint "Note text").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin: its submission prefix without scheme or trailing slash
    /// (static-ct-api), e.g. `ct.example.com/2025h1`.
    pub origin: String,
    /// The number of entries.
    pub tree_size: u64,
    /// The Merkle Tree Hash of those entries.
    pub root_hash: Hash,
    /// Extension lines (none in a static-ct-api checkpoint).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text: origin, size and base64 root, then any extension lines, each line
    /// ending in a newline.
    pub fn to_text(&self) -> Result<String, CheckpointError> {
        check_line(&self.origin, "empty origin")?;
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.tree_size,
            BASE64.encode(self.root_hash)
        );
        for line in &self.extensions {
            check_line(line, "empty extension line")?;
            text.push_str(line);
            text.push('\n');
        }
        Ok(text)
    }

    /// Parses a note text strictly: a non-empty origin, a decimal size without leading zeros,
    /// a canonical base64 root of 32 bytes, then only non-empty extension lines.
    pub fn parse_text(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MalformedBody(
                "text does not end in a newline",
            ))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        check_line(origin, "empty origin")?;
        let size = lines
            .next()
            .ok_or(CheckpointError::MalformedBody("missing tree size"))?;
        let root = lines
            .next()
            .ok_or(CheckpointError::MalformedBody("missing root hash"))?;
        let extensions = lines
            .map(|line| check_line(line, "empty extension line").map(|()| line.to_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            origin: origin.to_owned(),
            tree_size: parse_tree_size(size)?,
            root_hash: parse_root(root)?,
            extensions,
        })
    }
}

fn check_line(line: &str, empty: &'static str) -> Result<(), CheckpointError> {
    if line.is_empty() {
        return Err(CheckpointError::MalformedBody(empty));
    }
    if line.contains('\n') || line.chars().any(|c| c.is_ascii_control()) {
        return Err(CheckpointError::MalformedBody(
            "line contains a control character",
        ));
    }
    Ok(())
}

fn parse_tree_size(line: &str) -> Result<u64, CheckpointError> {
    let bad = CheckpointError::MalformedBody("tree size is not a canonical decimal");
    if line.is_empty()
        || !line.bytes().all(|b| b.is_ascii_digit())
        || (line.len() > 1 && line.starts_with('0'))
    {
        return Err(bad);
    }
    line.parse().map_err(|_| bad)
}

fn parse_root(line: &str) -> Result<Hash, CheckpointError> {
    let bad = CheckpointError::MalformedBody("root hash is not base64 of 32 bytes");
    let bytes = BASE64.decode(line).map_err(|_| bad.clone())?;
    let root: [u8; HASH_SIZE] = bytes.as_slice().try_into().map_err(|_| bad)?;
    Ok(root)
}

/// The key ID of a log's RFC 6962 note signatures: `SHA-256(origin || 0x0A || 0x05 ||
/// LogID)[:4]`, big-endian (static-ct-api "Checkpoints").
pub fn rfc6962_key_id(origin: &str, log_id: &[u8; 32]) -> u32 {
    key_id(origin, RFC6962_SIGNATURE_TYPE, log_id)
}

/// `RFC6962NoteSignature`: the tree head's timestamp followed by its `DigitallySigned`.
fn encode_note_signature(sth: &SignedTreeHead) -> Result<Vec<u8>, CtError> {
    let mut out = sth.tree_head.timestamp.to_be_bytes().to_vec();
    sth.signature.encode(&mut out)?;
    Ok(out)
}

fn decode_note_signature(bytes: &[u8]) -> Result<(u64, DigitallySigned), CheckpointError> {
    let mut reader = Reader::new(bytes);
    let parse = |reader: &mut Reader<'_>| -> Result<_, CtError> {
        let timestamp = reader.read_u64("RFC6962NoteSignature.timestamp")?;
        let signature = DigitallySigned::decode(reader)?;
        Ok((timestamp, signature))
    };
    let parsed = parse(&mut reader).map_err(|_| CheckpointError::MalformedSignature)?;
    reader
        .finish("RFC6962NoteSignature")
        .map_err(|_| CheckpointError::MalformedSignature)?;
    Ok(parsed)
}

/// The checkpoint carrying `sth`'s own signature (no private key needed): the body for
/// `origin`, and one signature line named `origin` with the log's RFC 6962 key ID.
///
/// `origin` must be a valid key name (no spaces or `+`), since it names the signature too.
pub fn sth_to_checkpoint(
    sth: &SignedTreeHead,
    origin: &str,
    log_id: &[u8; 32],
) -> Result<String, CtError> {
    check_key_name(origin).map_err(CheckpointError::from)?;
    let body = Checkpoint {
        origin: origin.to_owned(),
        tree_size: sth.tree_head.tree_size,
        root_hash: sth.tree_head.root_hash,
        extensions: Vec::new(),
    };
    let note = Note {
        text: body.to_text()?,
        signatures: vec![NoteSignature {
            name: origin.to_owned(),
            key_id: rfc6962_key_id(origin, log_id),
            signature: encode_note_signature(sth)?,
        }],
    };
    Ok(note.encode().map_err(CheckpointError::from)?)
}

/// Signs `tree_head` and returns both encodings of the result: the signed tree head (for
/// `get-sth`) and the checkpoint note (for `/checkpoint`), which carry the same signature.
pub fn sign_checkpoint(
    tree_head: TreeHead,
    origin: &str,
    key: &LogSigningKey,
) -> Result<(SignedTreeHead, String), CtError> {
    let sth = SignedTreeHead::sign(tree_head, key)?;
    let note = sth_to_checkpoint(&sth, origin, &key.log_id())?;
    Ok((sth, note))
}

/// Extracts the signed tree head from a checkpoint of the log with `log_id` at `origin`,
/// **without verifying the signature**: for a server re-serving its own stored checkpoint as
/// `get-sth`. Clients use [`verify_checkpoint`].
///
/// Checks everything but the signature: the note and body syntax, the origin, the absence of
/// extension lines, and exactly one signature line by the log's key; other signatures
/// (witnesses, grease) are ignored.
pub fn sth_from_checkpoint(
    note: &[u8],
    origin: &str,
    log_id: &[u8; 32],
) -> Result<SignedTreeHead, CtError> {
    Ok(open(note, origin, log_id)?)
}

fn open(note: &[u8], origin: &str, log_id: &[u8; 32]) -> Result<SignedTreeHead, CheckpointError> {
    let note = Note::parse(note)?;
    let body = Checkpoint::parse_text(&note.text)?;
    if body.origin != origin {
        return Err(CheckpointError::OriginMismatch {
            expected: origin.to_owned(),
            found: body.origin,
        });
    }
    if !body.extensions.is_empty() {
        return Err(CheckpointError::ExtensionLines);
    }
    // signed-note: a signature counts as ours only if both name and key ID match.
    let id = rfc6962_key_id(origin, log_id);
    let mut ours = note
        .signatures
        .iter()
        .filter(|s| s.name == origin && s.key_id == id);
    let sig = ours.next().ok_or(CheckpointError::MissingLogSignature)?;
    if ours.next().is_some() {
        return Err(CheckpointError::DuplicateLogSignature);
    }
    let (timestamp, signature) = decode_note_signature(&sig.signature)?;
    Ok(SignedTreeHead {
        tree_head: TreeHead {
            tree_size: body.tree_size,
            timestamp,
            root_hash: body.root_hash,
        },
        signature,
    })
}

/// Verifies a checkpoint of the log with `key` at `origin` and returns its signed tree head
/// (which is also a valid `get-sth` answer).
///
/// Unknown signatures are ignored (signed-note); the log's own must be present, unique, and
/// verify over the `TreeHeadSignature` rebuilt from the body and the signature's timestamp.
pub fn verify_checkpoint(
    note: &[u8],
    origin: &str,
    key: &LogPublicKey,
) -> Result<SignedTreeHead, CtError> {
    let sth = open(note, origin, &key.log_id())?;
    sth.verify(key)?;
    Ok(sth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trip_and_spec_example() {
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let body = Checkpoint::parse_text(text).unwrap();
        assert_eq!(body.origin, "example.com/behind-the-sofa");
        assert_eq!(body.tree_size, 20_852_163);
        assert!(body.extensions.is_empty());
        assert_eq!(body.to_text().unwrap(), text);
        let with_ext = format!("{text}ext one\n");
        let body = Checkpoint::parse_text(&with_ext).unwrap();
        assert_eq!(body.extensions, ["ext one"]);
        assert_eq!(body.to_text().unwrap(), with_ext);
    }

    #[test]
    fn malformed_bodies() {
        let root = BASE64.encode([1u8; 32]);
        let bad = [
            String::new(),
            "o\n".to_owned(),
            "o\n1\n".to_owned(),
            format!("o\n1\n{root}"),
            format!("\n1\n{root}\n"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n1 \n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            "o\n1\nAAAA\n".to_owned(),
            format!("o\n1\n{root}x\n"),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}\next\n\n"),
            format!("o\r\n1\n{root}\n"),
        ];
        for text in bad {
            assert!(Checkpoint::parse_text(&text).is_err(), "{text:?}");
        }
        assert_eq!(
            Checkpoint::parse_text(&format!("o\n0\n{root}\n"))
                .unwrap()
                .tree_size,
            0
        );
    }
}
