//! Ed25519 key material in the formats the variables carry (DESIGN §4).
//!
//! - `jwt_signing_key`: one private JWK (RFC 8037),
//!   `{"kty":"OKP","crv":"Ed25519","kid":…,"x":…,"d":…}`.
//! - `jwt_public_keys`: a JWKS, `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":…,
//!   "x":…,"use":"sig","alg":"EdDSA"}]}`, never with `d`.
//!
//! Parsing is strict (wrong curve, missing `kid`, a private part in the JWKS,
//! a bad length are all errors) because a key mix-up should stop the
//! component at its first request, not quietly accept the wrong tokens.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jwt_simple::prelude::{Ed25519KeyPair, Ed25519PublicKey, EdDSAPublicKeyLike};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::claims::is_sane_id;

/// Why key material could not be loaded. Never carries key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key material: {0}")]
pub struct KeyError(&'static str);

/// The private signing key with its `kid` (the auth component only).
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The verification keys listed in the JWKS, by `kid`.
///
/// Keys stay raw bytes until a signature check needs one: turning bytes
/// into a checked Ed25519 point costs ~26 µs in wasm, and the hot path (the
/// one-read session check, DESIGN §4) only needs to know the `kid` exists.
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<(String, [u8; 32])>,
}

/// A fresh key pair in both variable formats, for dev setup and tests.
#[derive(Clone)]
pub struct GeneratedKeys {
    /// The private JWK for `jwt_signing_key` (secret).
    pub private_jwk: String,
    /// A JWKS with only the public half, for `jwt_public_keys`.
    pub jwks: String,
}

impl std::fmt::Debug for GeneratedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKeys")
            .field("jwks", &self.jwks)
            .finish_non_exhaustive()
    }
}

/// Generates an Ed25519 key pair labelled `kid`.
///
/// # Panics
/// If `kid` is not `[A-Za-z0-9._-]{1,64}`: callers pass a constant or a
/// generated id, so a bad one is a programming error.
pub fn generate_key_pair(kid: &str) -> GeneratedKeys {
    assert!(is_sane_id(kid), "kid must match [A-Za-z0-9._-]{{1,64}}");
    let bytes = Ed25519KeyPair::generate().to_bytes();
    let (seed, public) = bytes.split_at(32);
    let x = URL_SAFE_NO_PAD.encode(public);
    let private_jwk = serde_json::json!({
        "kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x, "d": URL_SAFE_NO_PAD.encode(seed),
    })
    .to_string();
    let jwks = public_jwks(&[(kid, public)]);
    GeneratedKeys { private_jwk, jwks }
}

/// Builds a JWKS document from `(kid, 32-byte public key)` pairs.
pub fn public_jwks(keys: &[(&str, &[u8])]) -> String {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(kid, public)| {
            serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(public), "use": "sig", "alg": "EdDSA",
            })
        })
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}

/// A JWKS document as [`KeySet::from_jwks`] expects it.
#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize, Serialize)]
struct Jwk {
    kty: String,
    crv: String,
    kid: String,
    x: String,
    #[serde(default)]
    d: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    alg: Option<String>,
}

impl Jwk {
    fn check(&self) -> Result<[u8; 32], KeyError> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(KeyError("only OKP/Ed25519 keys are accepted"));
        }
        if !is_sane_id(&self.kid) {
            return Err(KeyError("kid must match [A-Za-z0-9._-]{1,64}"));
        }
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(KeyError("key use must be sig"));
        }
        if self.alg.as_deref().is_some_and(|a| a != "EdDSA") {
            return Err(KeyError("key alg must be EdDSA"));
        }
        decode_32(&self.x)
    }
}

fn decode_32(text: &str) -> Result<[u8; 32], KeyError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
        .ok_or(KeyError("key parts must be 32 bytes of unpadded base64url"))
}

impl SigningKey {
    /// Parses the private JWK of `jwt_signing_key`.
    ///
    /// # Errors
    /// [`KeyError`] when it is not an Ed25519 private JWK with a sane `kid`
    /// whose `x` matches its `d`.
    pub fn from_jwk(json: &str) -> Result<Self, KeyError> {
        let jwk: Jwk =
            serde_json::from_str(json).map_err(|_| KeyError("signing key is not a JWK"))?;
        let public = jwk.check()?;
        let seed = decode_32(jwk.d.as_deref().ok_or(KeyError("signing key lacks d"))?)?;
        let mut raw = seed.to_vec();
        raw.extend_from_slice(&public);
        let pair = Ed25519KeyPair::from_bytes(&raw)
            .map_err(|_| KeyError("signing key's x does not match its d"))?;
        if pair.public_key().to_bytes() != public {
            return Err(KeyError("signing key's x does not match its d"));
        }
        let pair = pair.with_key_id(&jwk.kid);
        Ok(Self { kid: jwk.kid, pair })
    }

    /// The `kid` put into every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn pair(&self) -> &Ed25519KeyPair {
        &self.pair
    }
}

impl KeySet {
    /// Parses the JWKS of `jwt_public_keys`.
    ///
    /// # Errors
    /// [`KeyError`] when the document is not a JWKS of Ed25519 public keys
    /// with distinct sane `kid`s, when one carries a private part, or when it
    /// lists no key at all.
    pub fn from_jwks(json: &str) -> Result<Self, KeyError> {
        // The gateway reads its JWKS on every request: a well-formed one goes
        // straight into typed entries. Anything that shape refuses (even a
        // repeated member, which the map below tolerates) takes the generic
        // path, so the outcome and its error are the same either way.
        if let Ok(Jwks { keys }) = serde_json::from_str::<Jwks>(json) {
            return Self::from_entries(keys.into_iter().map(Ok));
        }
        let doc: Map<String, Value> =
            serde_json::from_str(json).map_err(|_| KeyError("public keys are not a JWKS"))?;
        let entries = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(KeyError("JWKS lacks a keys array"))?;
        Self::from_entries(entries.iter().map(|entry| {
            Jwk::deserialize(entry).map_err(|_| KeyError("JWKS entry is not an OKP JWK"))
        }))
    }

    /// Checks the entries in order; the first problem is the error.
    fn from_entries(
        entries: impl Iterator<Item = Result<Jwk, KeyError>>,
    ) -> Result<Self, KeyError> {
        let mut keys: Vec<(String, [u8; 32])> = Vec::new();
        for jwk in entries {
            let jwk = jwk?;
            if jwk.d.is_some() {
                return Err(KeyError("JWKS must not contain private keys"));
            }
            let x = jwk.check()?;
            if keys.iter().any(|(kid, _)| kid == &jwk.kid) {
                return Err(KeyError("JWKS lists a kid twice"));
            }
            keys.push((jwk.kid, x));
        }
        if keys.is_empty() {
            return Err(KeyError("JWKS lists no key"));
        }
        Ok(Self { keys })
    }

    /// The key listed under `kid`, ready to verify with; `None` when no
    /// such key is listed or its bytes are not a valid Ed25519 point (such a
    /// key could never verify a signature).
    pub fn get(&self, kid: &str) -> Option<Ed25519PublicKey> {
        let (kid, raw) = self.keys.iter().find(|(k, _)| k == kid)?;
        let mut public = Ed25519PublicKey::from_bytes(raw).ok()?;
        public.set_key_id(kid.clone());
        Some(public)
    }

    /// True when `kid` is listed.
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.iter().any(|(k, _)| k == kid)
    }

    /// The JWKS as served at `/.well-known/jwks.json` (public parts only).
    pub fn to_jwks_json(&self) -> String {
        let refs: Vec<(&str, &[u8])> = self
            .keys
            .iter()
            .map(|(kid, key)| (kid.as_str(), key.as_slice()))
            .collect();
        public_jwks(&refs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_key_that_is_not_a_curve_point_can_never_verify() {
        // y = 2 is not the encoding of any Ed25519 point.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        let set = KeySet::from_jwks(&public_jwks(&[("bad", &not_a_point)])).unwrap();
        assert!(set.contains("bad"));
        assert!(set.get("bad").is_none());
        let good = generate_key_pair("good");
        let set = KeySet::from_jwks(&good.jwks).unwrap();
        assert!(set.get("good").is_some() && set.get("other").is_none());
    }

    #[test]
    fn generated_keys_parse_back_in_both_formats() {
        let keys = generate_key_pair("k1");
        let signing = SigningKey::from_jwk(&keys.private_jwk).unwrap();
        assert_eq!(signing.kid(), "k1");
        let set = KeySet::from_jwks(&keys.jwks).unwrap();
        assert!(set.contains("k1"));
        assert!(!keys.jwks.contains("\"d\""));
        assert_eq!(
            KeySet::from_jwks(&set.to_jwks_json()).unwrap().keys.len(),
            1
        );
    }

    #[test]
    fn a_jwks_with_a_private_part_is_refused() {
        let keys = generate_key_pair("k1");
        let leaked = format!("{{\"keys\":[{}]}}", keys.private_jwk);
        assert!(KeySet::from_jwks(&leaked).is_err());
    }

    #[test]
    fn a_signing_key_whose_x_does_not_match_d_is_refused() {
        let a: Value = serde_json::from_str(&generate_key_pair("a").private_jwk).unwrap();
        let b: Value = serde_json::from_str(&generate_key_pair("b").private_jwk).unwrap();
        let mut mixed = a.clone();
        mixed["x"] = b["x"].clone();
        assert!(SigningKey::from_jwk(&mixed.to_string()).is_err());
    }

    #[test]
    fn malformed_key_documents_are_errors_not_panics() {
        for doc in [
            "",
            "{}",
            "{\"keys\":[]}",
            "{\"keys\":[{\"kty\":\"RSA\"}]}",
            "[1]",
        ] {
            assert!(KeySet::from_jwks(doc).is_err(), "{doc}");
            assert!(SigningKey::from_jwk(doc).is_err(), "{doc}");
        }
    }

    #[test]
    fn a_jwks_gives_the_same_keys_and_errors_through_either_parsing_path() {
        let good = generate_key_pair("k1");
        let entry = &good.jwks["{\"keys\":[".len()..good.jwks.len() - 2];
        let private = generate_key_pair("k2").private_jwk;
        let from = |doc: String| KeySet::from_jwks(&doc).map(|set| set.keys);

        let repeated = from(format!("{{\"keys\":[],\"keys\":[{entry}]}}"));
        let extra_member = from(format!("{{\"x\":1,\"keys\":[{entry}]}}"));

        assert_eq!(repeated, from(good.jwks.clone()), "the last member wins");
        assert_eq!(extra_member, from(good.jwks.clone()));
        assert_eq!(
            from("{\"keys\":null}".into()),
            Err(KeyError("JWKS lacks a keys array"))
        );
        assert_eq!(
            from(format!("{{\"keys\":[{entry},{{\"kty\":\"RSA\"}}]}}")),
            Err(KeyError("JWKS entry is not an OKP JWK"))
        );
        assert_eq!(
            from(format!("{{\"keys\":[{private},{{\"kty\":1}}]}}")),
            Err(KeyError("JWKS must not contain private keys")),
            "entries are checked in order"
        );
    }

    #[test]
    fn debug_output_never_shows_the_private_key() {
        let keys = generate_key_pair("k1");
        let signing = SigningKey::from_jwk(&keys.private_jwk).unwrap();
        let d: Value = serde_json::from_str(&keys.private_jwk).unwrap();
        let d = d["d"].as_str().unwrap();
        assert!(!format!("{signing:?}").contains(d));
        assert!(!format!("{keys:?}").contains(d));
    }
}
