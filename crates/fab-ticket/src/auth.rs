//! Passwords, session tokens and hashes for the job database.
//!
//! - Passwords are kept as argon2id PHC strings (salted, the `argon2` crate's default costs).
//! - Session tokens are 32 random bytes from the OS, shown once in hex; the database keeps only
//!   their SHA-256, so a copy of the database does not log anyone in.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted (argon2 takes any length; this keeps a pasted file out).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A password or token that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "a password needs at least {MIN_PASSWORD_CHARS} characters (and at most {MAX_PASSWORD_CHARS})"
    )]
    WeakPassword,
    #[error("the operating system gave no random bytes: {0}")]
    Random(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

fn argon2id() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, AuthError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(b)
}

/// Checks a new password's length.
pub fn check_new_password(password: &str) -> Result<(), AuthError> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(AuthError::WeakPassword);
    }
    Ok(())
}

/// The argon2id PHC string of a new password (checked for length first).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    check_new_password(password)?;
    let salt =
        SaltString::encode_b64(&random_bytes(16)?).map_err(|e| AuthError::Hash(e.to_string()))?;
    argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` is the one `phc` was made from. A malformed `phc` verifies nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => argon2id().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// A new session token: 32 random bytes, hex.
pub fn new_token() -> Result<String, AuthError> {
    Ok(hex(&random_bytes(32)?))
}

/// The SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_itself_and_is_salted() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsE", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(h, hash_password("correct horse").unwrap());
        assert!(matches!(
            hash_password("short"),
            Err(AuthError::WeakPassword)
        ));
    }

    #[test]
    fn tokens_are_random_and_hashes_are_sha256() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
