//! Crypt4GH v1, the GA4GH file encryption standard (X25519 key exchange, ChaCha20-Poly1305 in
//! 64 KiB segments), as the EGA and GDI inboxes take it; keys in the format of the reference
//! `crypt4gh` tool (<https://crypt4gh.readthedocs.io>).
//!
//! The file: `crypt4gh` magic, version 1 (u32 LE), a packet count, then header packets, one per
//! recipient: `length (u32 LE, itself included) · method 0 · writer public key (32) · nonce
//! (12) · ChaCha20-Poly1305(packet) with the tag (16)`. The packet key is the first 32 bytes of
//! BLAKE2b-512(X25519(writer secret, reader public) ‖ reader public ‖ writer public)
//! (libsodium's `crypto_kx`, which the reference implementation calls). A decrypted packet is
//! either *data encryption parameters* (type 0, method 0 = ChaCha20-Poly1305 IETF, the 32-byte
//! session key) or an *edit list* (type 1: count, then lengths to skip and keep alternately).
//! The payload follows: every 64 KiB of plaintext is `nonce (12) · ciphertext · tag (16)`
//! under the session key; the last segment is shorter (never empty).
//!
//! All primitives come from RustCrypto and dalek crates (`x25519-dalek`, `chacha20poly1305`,
//! `blake2`, `scrypt`, `bcrypt-pbkdf`, `pbkdf2`); random bytes from the OS (`getrandom`).
//! Segments are independent, so a batch of them is encrypted or decrypted on the rayon pool;
//! MD5 and SHA-256 of the plaintext and of the ciphertext are computed in the same pass.

use std::io::{Read, Write};
use std::path::Path;

use base64::Engine;
use blake2::{Blake2b512, Digest as _};
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};
use md5::Md5;
use rayon::prelude::*;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::error::{Error, Result};
use crate::io::atomic::Pending;

/// Plaintext bytes per segment.
pub const SEGMENT_SIZE: usize = 65536;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Bytes a segment grows by when encrypted.
pub const SEGMENT_OVERHEAD: usize = NONCE_LEN + TAG_LEN;
const CIPHER_SEGMENT_SIZE: usize = SEGMENT_SIZE + SEGMENT_OVERHEAD;
const MAGIC: &[u8; 8] = b"crypt4gh";
const VERSION: u32 = 1;
/// Segments handed to the pool at a time (16 MiB of plaintext).
const BATCH_SEGMENTS: usize = 256;

const KEY_MAGIC: &[u8] = b"c4gh-v1";
const PUBLIC_BEGIN: &str = "-----BEGIN CRYPT4GH PUBLIC KEY-----";
const PUBLIC_END: &str = "-----END CRYPT4GH PUBLIC KEY-----";
const SECRET_BEGIN: &str = "-----BEGIN CRYPT4GH PRIVATE KEY-----";
const SECRET_END: &str = "-----END CRYPT4GH PRIVATE KEY-----";
/// The environment variable the reference tool reads a key's passphrase from.
pub const PASSPHRASE_ENV: &str = "C4GH_PASSPHRASE";

/// A recipient's (or sender's) X25519 public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipient(pub [u8; 32]);

impl Recipient {
    /// Standard base64 of the key, as in the key file.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }
}

/// An X25519 secret key.
pub struct SecretKey(StaticSecret);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(public {})", self.public().to_base64())
    }
}

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self> {
        let mut b = [0u8; 32];
        random(&mut b)?;
        Ok(SecretKey(StaticSecret::from(b)))
    }
    /// The key from its 32 bytes.
    pub fn from_bytes(b: [u8; 32]) -> Self {
        SecretKey(StaticSecret::from(b))
    }
    /// Its public key.
    pub fn public(&self) -> Recipient {
        Recipient(PublicKey::from(&self.0).to_bytes())
    }
    /// The key shared with `peer` when this side writes (libsodium `crypto_kx` server tx).
    fn writer_key(&self, reader: &Recipient) -> Option<[u8; 32]> {
        self.session_key(reader, reader, &self.public())
    }
    /// The key shared with `writer` when this side reads (libsodium `crypto_kx` client rx).
    fn reader_key(&self, writer: &Recipient) -> Option<[u8; 32]> {
        self.session_key(writer, &self.public(), writer)
    }
    fn session_key(
        &self,
        peer: &Recipient,
        reader: &Recipient,
        writer: &Recipient,
    ) -> Option<[u8; 32]> {
        let q = self.0.diffie_hellman(&PublicKey::from(peer.0));
        if !q.was_contributory() {
            return None; // a low-order public key: libsodium refuses it too
        }
        let mut h = Blake2b512::new();
        h.update(q.as_bytes());
        h.update(reader.0);
        h.update(writer.0);
        let out = h.finalize();
        let mut k = [0u8; 32];
        k.copy_from_slice(&out[..32]);
        Some(k)
    }
}

fn random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf)
        .map_err(|e| Error::Internal(format!("the operating system's random source failed: {e}")))
}

fn armored(text: &str, begin: &str, end: &str) -> Option<String> {
    let start = text.find(begin)? + begin.len();
    let stop = start + text[start..].find(end)?;
    Some(
        text[start..stop]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect(),
    )
}

/// Reads a Crypt4GH public key file.
pub fn read_public_key(path: &Path) -> Result<Recipient> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let b64 = armored(&text, PUBLIC_BEGIN, PUBLIC_END).ok_or_else(|| {
        Error::input(
            path,
            format!("not a Crypt4GH public key (no {PUBLIC_BEGIN} … {PUBLIC_END} block)"),
        )
    })?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| Error::input(path, format!("public key is not base64: {e}")))?;
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        Error::input(
            path,
            format!("public key has {} bytes, not 32", bytes.len()),
        )
    })?;
    Ok(Recipient(key))
}

struct Fields<'a> {
    data: &'a [u8],
}

impl<'a> Fields<'a> {
    /// A big-endian u16 length, then that many bytes.
    fn string(&mut self) -> Option<&'a [u8]> {
        if self.data.len() < 2 {
            return None;
        }
        let n = u16::from_be_bytes([self.data[0], self.data[1]]) as usize;
        let s = self.data.get(2..2 + n)?;
        self.data = &self.data[2 + n..];
        Some(s)
    }
}

fn encode_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
}

/// Derives the 32-byte key that locks a secret key file.
fn derive_key(kdf: &[u8], passphrase: &[u8], salt: &[u8], rounds: u32) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    match kdf {
        b"scrypt" => {
            let params = scrypt::Params::new(14, 8, 1).ok()?;
            scrypt::scrypt(passphrase, salt, &params, &mut out).ok()?;
        }
        b"bcrypt" => bcrypt_pbkdf::bcrypt_pbkdf(passphrase, salt, rounds, &mut out).ok()?,
        b"pbkdf2_hmac_sha256" => pbkdf2::pbkdf2_hmac::<Sha256>(passphrase, salt, rounds, &mut out),
        _ => return None,
    }
    Some(out)
}

/// The most rounds a locked key may ask of a key derivation: a damaged or hostile count (up to
/// 2^32 - 1) kept `genoa decrypt` busy for days. The limits are far above what key tools write
/// (OpenSSH's bcrypt default is 16 rounds; OWASP asks PBKDF2-HMAC-SHA256 for 600,000) and cost
/// 2.8 s (bcrypt) and 1.3 s (PBKDF2) on a 2-core CI machine. scrypt keys carry no count.
const MAX_ROUNDS: [(&[u8], u32); 2] = [(b"bcrypt", 1_000), (b"pbkdf2_hmac_sha256", 10_000_000)];

/// Reads a Crypt4GH secret key file; a locked one needs `passphrase`.
pub fn read_secret_key(path: &Path, passphrase: Option<&str>) -> Result<SecretKey> {
    let bad = |m: &str| Error::input(path, m.to_string());
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let b64 = armored(&text, SECRET_BEGIN, SECRET_END).ok_or_else(|| {
        bad(&format!(
            "not a Crypt4GH private key (no {SECRET_BEGIN} … block; OpenSSH keys are not read)"
        ))
    })?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| bad(&format!("private key is not base64: {e}")))?;
    let rest = blob
        .strip_prefix(KEY_MAGIC)
        .ok_or_else(|| bad("private key does not start with c4gh-v1"))?;
    let mut f = Fields { data: rest };
    let truncated = || bad("private key is truncated");
    let kdf = f.string().ok_or_else(truncated)?;
    let (rounds, salt) = if kdf == b"none" {
        (0, &[][..])
    } else {
        let opts = f.string().ok_or_else(truncated)?;
        if opts.len() < 4 {
            return Err(truncated());
        }
        (
            u32::from_be_bytes([opts[0], opts[1], opts[2], opts[3]]),
            &opts[4..],
        )
    };
    if let Some((_, max)) = MAX_ROUNDS.iter().find(|(k, _)| *k == kdf)
        && rounds > *max
    {
        return Err(bad(&format!(
            "private key asks for {rounds} rounds of {}, more than genoa runs ({max}): a damaged key?",
            String::from_utf8_lossy(kdf)
        )));
    }
    let cipher = f.string().ok_or_else(truncated)?;
    let data = f.string().ok_or_else(truncated)?;
    let key: Vec<u8> = match cipher {
        b"none" => data.to_vec(),
        b"chacha20_poly1305" => {
            let passphrase = passphrase.ok_or_else(|| {
                bad(&format!(
                    "private key is locked with a passphrase: set {PASSPHRASE_ENV}"
                ))
            })?;
            let derived =
                derive_key(kdf, passphrase.as_bytes(), salt, rounds).ok_or_else(|| {
                    bad(&format!(
                        "unsupported key derivation {:?}",
                        String::from_utf8_lossy(kdf)
                    ))
                })?;
            if data.len() < NONCE_LEN + TAG_LEN {
                return Err(truncated());
            }
            open(&derived, &data[..NONCE_LEN], &data[NONCE_LEN..])
                .ok_or_else(|| bad("wrong passphrase (the private key does not unlock)"))?
        }
        other => {
            return Err(bad(&format!(
                "unsupported key cipher {:?}",
                String::from_utf8_lossy(other)
            )));
        }
    };
    let key: [u8; 32] = key
        .as_slice()
        .try_into()
        .map_err(|_| bad(&format!("private key has {} bytes, not 32", key.len())))?;
    Ok(SecretKey::from_bytes(key))
}

/// ChaCha20-Poly1305 with a detached nonce; `ct` ends with the tag.
fn open(key: &[u8; 32], nonce: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
    let (body, tag) = ct.split_at(ct.len().checked_sub(TAG_LEN)?);
    let mut buf = body.to_vec();
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    let nonce = Nonce::try_from(nonce).ok()?;
    let tag = Tag::try_from(tag).ok()?;
    cipher
        .decrypt_inout_detached(&nonce, b"", buf.as_mut_slice().into(), &tag)
        .ok()?;
    Some(buf)
}

/// `nonce · ciphertext · tag` of `plain` under `key`.
fn seal(key: &[u8; 32], plain: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![0u8; NONCE_LEN + plain.len() + TAG_LEN];
    random(&mut out[..NONCE_LEN])?;
    seal_into(&ChaCha20Poly1305::new(&Key::from(*key)), plain, &mut out);
    Ok(out)
}

/// Encrypts `plain` into `out` (`out[..12]` holds the nonce already).
fn seal_into(cipher: &ChaCha20Poly1305, plain: &[u8], out: &mut [u8]) {
    let (nonce, rest) = out.split_at_mut(NONCE_LEN);
    let (body, tag_out) = rest.split_at_mut(plain.len());
    body.copy_from_slice(plain);
    let nonce = Nonce::try_from(&*nonce).expect("12-byte nonce");
    let tag = cipher
        .encrypt_inout_detached(&nonce, b"", body.into())
        .expect("a 64 KiB segment is within ChaCha20's limits");
    tag_out.copy_from_slice(&tag);
}

/// Writes a key pair as the reference tool does: the secret key locked with `passphrase`
/// (scrypt, N = 2^14, r = 8, p = 1, and ChaCha20-Poly1305), or in the clear when `None`.
/// The secret key file is created with mode 0600 and neither file may exist yet.
pub fn write_keypair(
    secret_path: &Path,
    public_path: &Path,
    passphrase: Option<&str>,
    comment: Option<&str>,
) -> Result<Recipient> {
    for p in [secret_path, public_path] {
        if crate::io::atomic::occupied(p) {
            return Err(Error::input(
                p,
                "exists already (keys are never overwritten)",
            ));
        }
    }
    let key = SecretKey::generate()?;
    let mut blob = KEY_MAGIC.to_vec();
    match passphrase {
        None => {
            encode_string(&mut blob, b"none");
            encode_string(&mut blob, b"none");
            encode_string(&mut blob, key.0.as_bytes());
        }
        Some(pw) => {
            let mut salt = [0u8; 16];
            random(&mut salt)?;
            let derived = derive_key(b"scrypt", pw.as_bytes(), &salt, 0).expect("scrypt params");
            let mut opts = 0u32.to_be_bytes().to_vec();
            opts.extend_from_slice(&salt);
            encode_string(&mut blob, b"scrypt");
            encode_string(&mut blob, &opts);
            encode_string(&mut blob, b"chacha20_poly1305");
            encode_string(&mut blob, &seal(&derived, key.0.as_bytes())?);
        }
    }
    if let Some(c) = comment {
        encode_string(&mut blob, c.as_bytes());
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let secret = format!("{SECRET_BEGIN}\n{}\n{SECRET_END}\n", b64.encode(&blob));
    let public = format!(
        "{PUBLIC_BEGIN}\n{}\n{PUBLIC_END}\n",
        b64.encode(key.public().0)
    );
    write_new(secret_path, secret.as_bytes(), true)?;
    write_new(public_path, public.as_bytes(), false)?;
    Ok(key.public())
}

fn write_new(path: &Path, data: &[u8], secret: bool) -> Result<()> {
    let pending = if secret {
        Pending::private(path)?
    } else {
        Pending::new(path)?
    };
    let mut f = pending.create()?;
    f.write_all(data).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))?;
    pending.commit_new()
}

/// Byte count and digests of one byte stream.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Digests {
    pub bytes: u64,
    pub md5: String,
    pub sha256: String,
}

#[derive(Default)]
struct Hasher {
    bytes: u64,
    md5: Md5,
    sha256: Sha256,
}

impl Hasher {
    fn update(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        // The two digests of one buffer run side by side.
        let (md5, sha) = (&mut self.md5, &mut self.sha256);
        rayon::join(|| md5.update(data), || sha.update(data));
    }
    fn finish(self) -> Digests {
        Digests {
            bytes: self.bytes,
            md5: hex(&self.md5.finalize()),
            sha256: hex(&self.sha256.finalize()),
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What an encryption or decryption saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub plaintext: Digests,
    pub ciphertext: Digests,
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The header of a file for `recipients`, sent by `sender`, with `session_key`.
fn header(sender: &SecretKey, recipients: &[Recipient], session_key: &[u8; 32]) -> Result<Vec<u8>> {
    let mut packet = 0u32.to_le_bytes().to_vec(); // data encryption parameters
    packet.extend_from_slice(&0u32.to_le_bytes()); // ChaCha20-Poly1305 IETF
    packet.extend_from_slice(session_key);
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(recipients.len() as u32).to_le_bytes());
    let writer = sender.public();
    for r in recipients {
        let key = sender.writer_key(r).ok_or_else(|| {
            Error::Config(format!(
                "recipient key {} is a low-order point, not a usable X25519 key",
                r.to_base64()
            ))
        })?;
        let sealed = seal(&key, &packet)?;
        let len = 4 + 4 + 32 + sealed.len();
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // X25519 + ChaCha20-Poly1305
        out.extend_from_slice(&writer.0);
        out.extend_from_slice(&sealed);
    }
    Ok(out)
}

/// Encrypts `input` for `recipients` (at least one) into `output`, signed by `sender`'s key
/// (or a fresh one, as the reference tool does without `--sk`). `input_name`/`output_name`
/// name the streams in errors.
pub fn encrypt(
    input: &mut impl Read,
    input_name: &Path,
    output: &mut (impl Write + Send),
    output_name: &Path,
    sender: Option<&SecretKey>,
    recipients: &[Recipient],
) -> Result<Transfer> {
    if recipients.is_empty() {
        return Err(Error::Config(
            "encryption needs at least one recipient key".into(),
        ));
    }
    let ephemeral;
    let sender = match sender {
        Some(s) => s,
        None => {
            ephemeral = SecretKey::generate()?;
            &ephemeral
        }
    };
    let mut session_key = [0u8; 32];
    random(&mut session_key)?;
    let head = header(sender, recipients, &session_key)?;
    let mut plain_h = Hasher::default();
    let mut cipher_h = Hasher::default();
    output
        .write_all(&head)
        .map_err(|e| Error::io(output_name, e))?;
    cipher_h.update(&head);
    let cipher = ChaCha20Poly1305::new(&Key::from(session_key));
    let mut plain = vec![0u8; SEGMENT_SIZE * BATCH_SEGMENTS];
    // Two ciphertext buffers: batch i is encrypted while batch i-1 is hashed and written.
    let mut sealed = vec![0u8; CIPHER_SEGMENT_SIZE * BATCH_SEGMENTS];
    let mut previous = vec![0u8; CIPHER_SEGMENT_SIZE * BATCH_SEGMENTS];
    let mut previous_len = 0;
    let mut flush = |buf: &[u8]| -> Result<()> {
        cipher_h.update(buf);
        output.write_all(buf).map_err(|e| Error::io(output_name, e))
    };
    loop {
        let n = read_full(input, &mut plain).map_err(|e| Error::io(input_name, e))?;
        if n == 0 {
            break;
        }
        let segments = n.div_ceil(SEGMENT_SIZE);
        let out_len = n + segments * SEGMENT_OVERHEAD;
        for s in 0..segments {
            let at = s * CIPHER_SEGMENT_SIZE;
            random(&mut sealed[at..at + NONCE_LEN])?;
        }
        let data = &plain[..n];
        let (_, written) = rayon::join(
            || {
                rayon::join(
                    || plain_h.update(data),
                    || {
                        sealed[..out_len]
                            .par_chunks_mut(CIPHER_SEGMENT_SIZE)
                            .zip(data.par_chunks(SEGMENT_SIZE))
                            .for_each(|(out, p)| seal_into(&cipher, p, out))
                    },
                )
            },
            || flush(&previous[..previous_len]),
        );
        written?;
        std::mem::swap(&mut sealed, &mut previous);
        previous_len = out_len;
        if n < plain.len() {
            break;
        }
    }
    flush(&previous[..previous_len])?;
    Ok(Transfer {
        plaintext: plain_h.finish(),
        ciphertext: cipher_h.finish(),
    })
}

/// Session keys and edit list recovered from a header.
struct Opened {
    session_keys: Vec<[u8; 32]>,
    edits: Option<Vec<u64>>,
}

fn read_u32(r: &mut impl Read, h: &mut Hasher) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    h.update(&b);
    Ok(u32::from_le_bytes(b))
}

fn open_header(
    input: &mut impl Read,
    name: &Path,
    key: &SecretKey,
    sender: Option<&Recipient>,
    h: &mut Hasher,
) -> Result<Opened> {
    let bad = |m: String| Error::input(name, m);
    let eof = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            bad("truncated Crypt4GH header".into())
        } else {
            Error::io(name, e)
        }
    };
    let mut magic = [0u8; 8];
    input.read_exact(&mut magic).map_err(eof)?;
    h.update(&magic);
    if &magic != MAGIC {
        return Err(bad("not a Crypt4GH file (no crypt4gh magic)".into()));
    }
    let version = read_u32(input, h).map_err(eof)?;
    if version != VERSION {
        return Err(bad(format!("Crypt4GH version {version}; only 1 is read")));
    }
    let count = read_u32(input, h).map_err(eof)?;
    let me = key.public();
    let mut opened = Opened {
        session_keys: Vec::new(),
        edits: None,
    };
    for i in 0..count {
        let len = read_u32(input, h).map_err(eof)? as usize;
        if !(4..=1 << 20).contains(&len) {
            return Err(bad(format!("header packet {i}: length {len} is invalid")));
        }
        let mut packet = vec![0u8; len - 4];
        input.read_exact(&mut packet).map_err(eof)?;
        h.update(&packet);
        // method 0 (4) · writer key (32) · nonce (12) · sealed packet
        if packet.len() < 4 + 32 + NONCE_LEN + TAG_LEN || packet[..4] != [0, 0, 0, 0] {
            continue; // another method, or someone else's packet we cannot read anyway
        }
        let writer = Recipient(packet[4..36].try_into().expect("32 bytes"));
        if sender.is_some_and(|s| *s != writer) {
            continue;
        }
        let Some(shared) = key.reader_key(&writer) else {
            continue;
        };
        let Some(plain) = open(&shared, &packet[36..48], &packet[48..]) else {
            continue; // encrypted for another recipient
        };
        if plain.len() < 4 {
            return Err(bad(format!("header packet {i}: too short")));
        }
        match u32::from_le_bytes(plain[..4].try_into().expect("4 bytes")) {
            0 => {
                if plain.len() != 4 + 4 + 32 || plain[4..8] != [0, 0, 0, 0] {
                    return Err(bad(format!(
                        "header packet {i}: unsupported data encryption method"
                    )));
                }
                opened
                    .session_keys
                    .push(plain[8..40].try_into().expect("32 bytes"));
            }
            1 => {
                if opened.edits.is_some() {
                    return Err(bad("more than one edit list in the header".into()));
                }
                let n = plain
                    .get(4..8)
                    .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
                    .ok_or_else(|| bad(format!("header packet {i}: truncated edit list")))?;
                if plain.len() != 8 + 8 * n {
                    return Err(bad(format!("header packet {i}: edit list length mismatch")));
                }
                opened.edits = Some(
                    plain[8..]
                        .chunks_exact(8)
                        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                        .collect(),
                );
            }
            t => return Err(bad(format!("header packet {i}: unknown packet type {t}"))),
        }
    }
    if opened.session_keys.is_empty() {
        return Err(bad(format!(
            "no header packet opens with the key {} (not a recipient of this file{})",
            me.to_base64(),
            if sender.is_some() {
                ", or another sender"
            } else {
                ""
            }
        )));
    }
    Ok(opened)
}

/// Applies an edit list to the plaintext stream: skip, keep, skip, keep, … (an odd count keeps
/// the rest; an even one drops it).
struct Edited<'a, W: Write> {
    out: &'a mut W,
    edits: Option<std::collections::VecDeque<u64>>,
    skipping: bool,
}

impl<W: Write> Edited<'_, W> {
    fn write(&mut self, mut data: &[u8]) -> std::io::Result<u64> {
        let Some(edits) = self.edits.as_mut() else {
            self.out.write_all(data)?;
            return Ok(data.len() as u64);
        };
        let mut kept = 0;
        while !data.is_empty() {
            let Some(left) = edits.front_mut() else {
                if self.skipping {
                    // even count: nothing is kept after the last keep
                    return Ok(kept);
                }
                self.out.write_all(data)?;
                return Ok(kept + data.len() as u64);
            };
            let n = (*left).min(data.len() as u64) as usize;
            if !self.skipping {
                self.out.write_all(&data[..n])?;
                kept += n as u64;
            }
            data = &data[n..];
            *left -= n as u64;
            if *left == 0 {
                edits.pop_front();
                self.skipping = !self.skipping;
            }
        }
        Ok(kept)
    }
}

/// Decrypts `input` with `key` into `output`; with `sender`, only packets written by that key
/// are accepted. The plaintext digests cover what was written (after an edit list).
pub fn decrypt(
    input: &mut impl Read,
    input_name: &Path,
    output: &mut (impl Write + Send),
    output_name: &Path,
    key: &SecretKey,
    sender: Option<&Recipient>,
) -> Result<Transfer> {
    let mut cipher_h = Hasher::default();
    let mut plain_h = Hasher::default();
    let opened = open_header(input, input_name, key, sender, &mut cipher_h)?;
    let ciphers: Vec<ChaCha20Poly1305> = opened
        .session_keys
        .iter()
        .map(|k| ChaCha20Poly1305::new(&Key::from(*k)))
        .collect();
    let mut edited = Edited {
        out: output,
        edits: opened.edits.map(Into::into),
        skipping: true,
    };
    // Batches start at 4 segments and double up to BATCH_SEGMENTS, so a small file does not
    // allocate (and zero) 48 MB of buffers.
    let mut batch = 4;
    let mut sealed = vec![0u8; CIPHER_SEGMENT_SIZE * batch];
    let mut plain = vec![0u8; SEGMENT_SIZE * batch];
    // Batch i is verified and decrypted while batch i-1's plaintext is hashed and written.
    let mut previous = vec![0u8; SEGMENT_SIZE * batch];
    let mut previous_len = 0;
    let mut sink = HashingWriter {
        inner: &mut edited,
        h: &mut plain_h,
    };
    let mut flush = |buf: &[u8]| sink.write(buf).map_err(|e| Error::io(output_name, e));
    let mut first_segment = 0u64;
    loop {
        let n = read_full(input, &mut sealed).map_err(|e| Error::io(input_name, e))?;
        if n == 0 {
            break;
        }
        let segments = n.div_ceil(CIPHER_SEGMENT_SIZE);
        let last_len = n - (segments - 1) * CIPHER_SEGMENT_SIZE;
        if last_len <= SEGMENT_OVERHEAD {
            return Err(Error::Record {
                path: input_name.to_path_buf(),
                record: first_segment + segments as u64,
                line: None,
                message: format!("segment of {last_len} bytes is too short (truncated file?)"),
            });
        }
        let plain_len = n - segments * SEGMENT_OVERHEAD;
        let data = &sealed[..n];
        let open_batch = || {
            plain[..plain_len]
                .par_chunks_mut(SEGMENT_SIZE)
                .zip(data.par_chunks(CIPHER_SEGMENT_SIZE))
                .enumerate()
                .map(|(i, (out, seg))| {
                    let nonce = Nonce::try_from(&seg[..NONCE_LEN]).expect("12 bytes");
                    let body = &seg[NONCE_LEN..seg.len() - TAG_LEN];
                    let tag = Tag::try_from(&seg[seg.len() - TAG_LEN..]).expect("16 bytes");
                    let ok = ciphers.iter().any(|c| {
                        out.copy_from_slice(body);
                        c.decrypt_inout_detached(&nonce, b"", (&mut *out).into(), &tag)
                            .is_ok()
                    });
                    (!ok).then_some(i)
                })
                .flatten()
                .min()
        };
        let ((failed, ()), written) = rayon::join(
            || rayon::join(open_batch, || cipher_h.update(data)),
            || flush(&previous[..previous_len]),
        );
        written?;
        if let Some(i) = failed {
            return Err(Error::Record {
                path: input_name.to_path_buf(),
                record: first_segment + i as u64 + 1,
                line: None,
                message: "segment fails authentication (damaged or altered file)".into(),
            });
        }
        std::mem::swap(&mut plain, &mut previous);
        previous_len = plain_len;
        first_segment += segments as u64;
        if n < sealed.len() {
            break;
        }
        batch = (batch * 2).min(BATCH_SEGMENTS);
        sealed.resize(CIPHER_SEGMENT_SIZE * batch, 0);
        plain.resize(SEGMENT_SIZE * batch, 0);
    }
    flush(&previous[..previous_len])?;
    Ok(Transfer {
        plaintext: plain_h.finish(),
        ciphertext: cipher_h.finish(),
    })
}

/// Writes through an edit list and hashes what was kept.
struct HashingWriter<'a, 'b, W: Write> {
    inner: &'a mut Edited<'b, W>,
    h: &'a mut Hasher,
}

impl<W: Write> HashingWriter<'_, '_, W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        if self.inner.edits.is_none() {
            self.inner.write(data)?;
            self.h.update(data);
            return Ok(());
        }
        // Hash exactly what the edit list keeps: run it on a copy.
        let mut kept = Vec::with_capacity(data.len());
        let mut probe = Edited {
            out: &mut kept,
            edits: self.inner.edits.clone(),
            skipping: self.inner.skipping,
        };
        probe.write(data)?;
        let (edits, skipping) = (probe.edits, probe.skipping);
        self.inner.out.write_all(&kept)?;
        self.inner.edits = edits;
        self.inner.skipping = skipping;
        self.h.update(&kept);
        Ok(())
    }
}

/// Streams the file `input` through `f` into `output`, written under a temporary name and
/// renamed when whole (and `f` succeeded); `private`: the temporary and the output are mode
/// 0600 (decrypted plaintext).
fn file_to_file(
    input: &Path,
    output: &Path,
    private: bool,
    f: impl FnOnce(&mut std::fs::File, &mut std::io::BufWriter<std::fs::File>) -> Result<Transfer>,
) -> Result<Transfer> {
    let mut r = std::fs::File::open(input).map_err(|e| Error::io(input, e))?;
    let pending = if private {
        Pending::private(output)?
    } else {
        Pending::new(output)?
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, pending.create()?);
    let t = f(&mut r, &mut w)?;
    let file = w
        .into_inner()
        .map_err(|e| Error::io(output, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(output, e))?;
    pending.commit_new()?;
    Ok(t)
}

/// Encrypts the file `input` to `output` (written under a temporary name, renamed when whole).
pub fn encrypt_file(
    input: &Path,
    output: &Path,
    sender: Option<&SecretKey>,
    recipients: &[Recipient],
) -> Result<Transfer> {
    file_to_file(input, output, false, |r, w| {
        encrypt(r, input, w, output, sender, recipients)
    })
}

/// Decrypts the file `input` to `output` (written under a temporary name, renamed when whole
/// and, with `expected`, only when the plaintext's size and digests equal it).
pub fn decrypt_file(
    input: &Path,
    output: &Path,
    key: &SecretKey,
    sender: Option<&Recipient>,
    expected: Option<&Digests>,
) -> Result<Transfer> {
    file_to_file(input, output, true, |r, w| {
        let t = decrypt(r, input, w, output, key, sender)?;
        match expected.filter(|want| **want != t.plaintext) {
            None => Ok(t),
            Some(want) => Err(Error::input(
                input,
                format!(
                    "decrypted content differs from the manifest: {} bytes md5 {} sha256 {}, manifest says {} bytes md5 {} sha256 {}",
                    t.plaintext.bytes,
                    t.plaintext.md5,
                    t.plaintext.sha256,
                    want.bytes,
                    want.md5,
                    want.sha256
                ),
            )),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(len: usize, recipients: usize) {
        let keys: Vec<SecretKey> = (0..recipients)
            .map(|_| SecretKey::generate().unwrap())
            .collect();
        let pubs: Vec<Recipient> = keys.iter().map(|k| k.public()).collect();
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 300) as u8).collect();
        let mut enc = Vec::new();
        let p = Path::new("x");
        let t = encrypt(&mut data.as_slice(), p, &mut enc, p, None, &pubs).unwrap();
        assert_eq!(t.plaintext.bytes, len as u64);
        assert_eq!(t.ciphertext.bytes, enc.len() as u64);
        let segs = len.div_ceil(SEGMENT_SIZE);
        let head = 16 + recipients * (4 + 4 + 32 + 12 + 40 + 16);
        assert_eq!(enc.len(), head + len + segs * SEGMENT_OVERHEAD);
        for k in &keys {
            let mut dec = Vec::new();
            let d = decrypt(&mut enc.as_slice(), p, &mut dec, p, k, None).unwrap();
            assert!(dec == data, "len {len}");
            assert_eq!(d.plaintext, t.plaintext);
            assert_eq!(d.ciphertext, t.ciphertext);
        }
    }

    #[test]
    fn roundtrips_at_segment_boundaries() {
        for len in [
            0,
            1,
            SEGMENT_SIZE - 1,
            SEGMENT_SIZE,
            SEGMENT_SIZE + 1,
            SEGMENT_SIZE * BATCH_SEGMENTS,
            SEGMENT_SIZE * BATCH_SEGMENTS + 5,
            // Decryption batches grow 4, 8, 16, … 256 segments: at and past each step, and
            // past the largest batch twice over.
            SEGMENT_SIZE * 4,
            SEGMENT_SIZE * 4 + 1,
            SEGMENT_SIZE * 12,
            SEGMENT_SIZE * 12 + 1,
            SEGMENT_SIZE * (508 + 2 * BATCH_SEGMENTS) + 3,
        ] {
            roundtrip(len, 1);
        }
        roundtrip(200_000, 3);
    }

    #[test]
    fn wrong_key_and_damage_are_errors() {
        let k = SecretKey::generate().unwrap();
        let other = SecretKey::generate().unwrap();
        let p = Path::new("f.c4gh");
        let data = vec![5u8; 100_000];
        let mut enc = Vec::new();
        encrypt(
            &mut data.as_slice(),
            p,
            &mut enc,
            p,
            Some(&k),
            &[k.public()],
        )
        .unwrap();
        let e = decrypt(&mut enc.as_slice(), p, &mut Vec::new(), p, &other, None).unwrap_err();
        assert!(e.to_string().contains("no header packet opens"), "{e}");
        // Only the named sender is accepted.
        let e = decrypt(
            &mut enc.as_slice(),
            p,
            &mut Vec::new(),
            p,
            &k,
            Some(&other.public()),
        )
        .unwrap_err();
        assert!(e.to_string().contains("another sender"), "{e}");
        let mut bad = enc.clone();
        let n = bad.len();
        bad[n - 100] ^= 1; // in the second segment
        let e = decrypt(&mut bad.as_slice(), p, &mut Vec::new(), p, &k, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.c4gh: record 2: segment fails authentication (damaged or altered file)"
        );
        let e = decrypt(&mut &b"crypt4gx"[..], p, &mut Vec::new(), p, &k, None).unwrap_err();
        assert!(e.to_string().contains("not a Crypt4GH file"), "{e}");
        let cut = &enc[..enc.len() - (100_000 - SEGMENT_SIZE + SEGMENT_OVERHEAD) + 10];
        let e = decrypt(&mut &cut[..], p, &mut Vec::new(), p, &k, None).unwrap_err();
        assert!(e.to_string().contains("too short"), "{e}");
    }

    #[test]
    fn edit_lists_skip_and_keep() {
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        for (edits, want) in [
            (vec![10u64, 5], data[10..15].to_vec()),
            (vec![10], data[10..].to_vec()),
            (vec![0, 3, 2, 4], [&data[0..3], &data[5..9]].concat()),
            (vec![990, 100], data[990..].to_vec()),
        ] {
            let mut out = Vec::new();
            let mut e = Edited {
                out: &mut out,
                edits: Some(edits.clone().into()),
                skipping: true,
            };
            for chunk in data.chunks(7) {
                e.write(chunk).unwrap();
            }
            assert_eq!(out, want, "{edits:?}");
        }
    }

    #[test]
    fn key_files_roundtrip_locked_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let (sk, pk) = (dir.path().join("k.sec"), dir.path().join("k.pub"));
        let public = write_keypair(&sk, &pk, Some("secret words"), Some("test key")).unwrap();
        assert_eq!(read_public_key(&pk).unwrap(), public);
        let key = read_secret_key(&sk, Some("secret words")).unwrap();
        assert_eq!(key.public(), public);
        let e = read_secret_key(&sk, Some("wrong")).unwrap_err();
        assert!(e.to_string().contains("wrong passphrase"), "{e}");
        let e = read_secret_key(&sk, None).unwrap_err();
        assert!(e.to_string().contains(PASSPHRASE_ENV), "{e}");
        assert!(write_keypair(&sk, &pk, None, None).is_err(), "no overwrite");
        let (sk2, pk2) = (dir.path().join("c.sec"), dir.path().join("c.pub"));
        let p2 = write_keypair(&sk2, &pk2, None, None).unwrap();
        assert_eq!(read_secret_key(&sk2, None).unwrap().public(), p2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&sk).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    /// libsodium's crypto_kx: the writer's tx key equals the reader's rx key.
    #[test]
    fn both_sides_derive_one_key() {
        let (a, b) = (
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap(),
        );
        assert_eq!(a.writer_key(&b.public()), b.reader_key(&a.public()));
        assert_ne!(a.writer_key(&b.public()), a.reader_key(&b.public()));
    }

    /// X25519 from RFC 7748 §6.1: Alice's and Bob's public keys.
    #[test]
    fn x25519_rfc7748_vector() {
        let alice = SecretKey::from_bytes(
            hex_bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
                .try_into()
                .unwrap(),
        );
        assert_eq!(
            hex(&alice.public().0),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
        );
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
