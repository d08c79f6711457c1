//! Parse, don't validate: [`Email`] and [`Password`] are checked once at
//! the edge, and Argon2id hashing lives next to them.
//!
//! Argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1). Unknown
//! e-mails are answered after verifying against [`DUMMY_HASH`], so they cost
//! the same time as a wrong password.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};

/// Longest e-mail accepted (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Password length limits, in bytes.
pub const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 8..=1024;

/// An Argon2id hash of a random string with the same parameters as real
/// hashes; verifying against it never succeeds but costs the same.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRmb3JkdW1teQ$Zq0IGWc+Uh5I2fxRSXB9Fx3H1/E2AlWXPqCa3Bvw5/E";

/// A trimmed, lower-cased e-mail of sane length and shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Trims, lower-cases and checks `raw`: at most 254 bytes, one `@` with
    /// text on both sides, no whitespace or control characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let email = raw.trim().to_lowercase();
        let (local, domain) = email.split_once('@')?;
        let sane = email.len() <= MAX_EMAIL_LEN
            && !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        sane.then_some(Self(email))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password within [`PASSWORD_LEN`]. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    /// Accepts 8 to 1024 bytes.
    pub fn parse(raw: String) -> Option<Self> {
        PASSWORD_LEN.contains(&raw.len()).then_some(Self(raw))
    }

    /// The password text (only for hashing and verification).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn hasher() -> Argon2<'static> {
    // The parameters are constants within Argon2's limits.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string for `password` with a fresh random salt.
///
/// # Errors
/// Only if the system's random source fails.
pub fn hash_password(password: &Password) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// True when `password` matches the PHC string `phc`. A malformed `phc`
/// (e.g. a bad variable) never matches, after costing the usual time.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        burn_dummy_time(password);
        return false;
    };
    hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Verifies against [`DUMMY_HASH`] so a miss costs as much as a hit.
pub fn burn_dummy_time(password: &str) {
    if let Ok(parsed) = PasswordHash::new(DUMMY_HASH) {
        let _ = hasher().verify_password(password.as_bytes(), &parsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
    }

    #[test]
    fn malformed_or_overlong_emails_are_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "ann",
            "@x",
            "ann@",
            "a@b@c",
            "a b@c",
            "a\u{0}@c",
            long.as_str(),
        ] {
            assert!(Email::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_must_be_8_to_1024_bytes() {
        assert!(Password::parse("short".into()).is_none());
        assert!(Password::parse("x".repeat(1025)).is_none());
        assert!(Password::parse("x".repeat(1024)).is_some());
        assert_eq!(
            format!("{:?}", Password::parse("secret-pw".into()).unwrap()),
            "Password(..)"
        );
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let password = Password::parse("correct horse".into()).unwrap();
        let phc = hash_password(&password).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("wrong horse", &phc));
        assert!(!verify_password("correct horse", "not a phc string"));
    }

    #[test]
    fn the_dummy_hash_has_the_real_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }
}
