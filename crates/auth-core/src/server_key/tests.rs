use super::*;
use jsonwebtoken::{decode, decode_header, Validation};
use storage::{open_pool, DatabaseUrl};

fn pool() -> storage::Pool {
    open_pool(&DatabaseUrl::parse("sqlite::memory:").unwrap(), 1).unwrap()
}

fn stored_rows(conn: &mut DbConn) -> Vec<(String, String)> {
    server_keys::table
        .select((server_keys::kid, server_keys::algorithm))
        .load(conn)
        .unwrap()
}

/// The thumbprint computed here from the key's own parts, independently of the module.
fn independent_thumbprint(pem: &str) -> String {
    let key = RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
    let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
    let members = serde_json::json!({
        "e": b64(key.e().to_bytes_be()),
        "kty": "RSA",
        "n": b64(key.n().to_bytes_be()),
    });
    // serde_json's map keeps keys sorted, which is RFC 7638's order; no whitespace.
    let canonical = serde_json::to_string(&members).unwrap();
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[test]
fn the_key_is_generated_once_stored_and_returned_again() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    assert!(stored_rows(&mut conn).is_empty());
    let first = current(&mut conn, now).unwrap();
    let rows = stored_rows(&mut conn);
    assert_eq!(
        rows,
        vec![(first.kid().to_owned(), "RS256".to_owned())],
        "one RS256 row under the key's kid"
    );
    let second = current(&mut conn, now).unwrap();
    assert_eq!(second.jwk(), first.jwk());
    assert_eq!(stored_rows(&mut conn).len(), 1);

    let pem = stored_pem(&mut conn).unwrap().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
    let private = RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
    assert_eq!(private.size() * 8, 2048);
}

#[test]
fn the_jwk_has_exactly_the_members_of_the_spec_and_kid_is_the_rfc7638_thumbprint() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let key = current(&mut conn, OffsetDateTime::now_utc()).unwrap();
    let pem = stored_pem(&mut conn).unwrap().unwrap();
    assert_eq!(key.kid(), independent_thumbprint(&pem));
    let jwk = serde_json::to_value(key.jwk()).unwrap();
    let mut members: Vec<&str> = jwk
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    members.sort_unstable();
    assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["e"], "AQAB", "65537");
    let n = jwk["n"].as_str().unwrap();
    assert!(!n.contains('=') && !n.contains('+') && !n.contains('/'));
    assert_eq!(URL_SAFE_NO_PAD.decode(n).unwrap().len(), 256);
}

#[test]
fn rfc7638_example_thumbprint() {
    // RFC 7638 section 3.1.
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    assert_eq!(
        thumbprint(n, "AQAB"),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn a_token_signed_with_the_key_verifies_with_its_decoding_key_and_names_its_kid() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let key = current(&mut conn, OffsetDateTime::now_utc()).unwrap();
    let claims = serde_json::json!({"sub": "u1", "iss": "https://idm.example.org"});
    let token = key.sign(&claims).unwrap();
    let header = decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some(key.kid()));
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = decode::<serde_json::Value>(&token, key.decoding_key(), &validation).unwrap();
    assert_eq!(data.claims, claims);
    // The public key alone (as a verifier rebuilds it from the JWK) verifies too.
    let public = DecodingKey::from_rsa_components(&key.jwk().n, &key.jwk().e).unwrap();
    decode::<serde_json::Value>(&token, &public, &validation).unwrap();
    // A changed payload does not.
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin"}"#);
    parts[1] = &forged;
    assert!(decode::<serde_json::Value>(&parts.join("."), &public, &validation).is_err());
}

#[test]
fn the_cache_reads_the_key_once_and_keeps_it() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let cache = KeyCache::new();
    assert!(cache.cached().is_none());
    let first = cache.get(&mut conn, OffsetDateTime::now_utc()).unwrap();
    let again = cache.get(&mut conn, OffsetDateTime::now_utc()).unwrap();
    assert!(Arc::ptr_eq(&first, &again), "no second read or parse");
    assert!(Arc::ptr_eq(&first, &cache.cached().unwrap()));
}

#[test]
fn nodes_racing_on_first_use_end_with_one_key() {
    // A file database (shared-cache memory databases lock by table, without busy waits),
    // one connection per "node".
    let dir = std::env::temp_dir().join(format!("tessera-key-{}", uuid::Uuid::new_v4()));
    let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.join("t.db").display())).unwrap();
    let pool = open_pool(&url, 4).unwrap();
    let barrier = std::sync::Barrier::new(4);
    let kids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (pool, barrier) = (pool.clone(), &barrier);
                scope.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    barrier.wait();
                    current(&mut conn, OffsetDateTime::now_utc())
                        .unwrap()
                        .kid()
                        .to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut conn = pool.get().unwrap();
    let rows = stored_rows(&mut conn);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(kids.iter().all(|k| *k == rows[0].0), "{kids:?} vs {rows:?}");
    drop(conn);
    drop(pool);
    let _ = std::fs::remove_dir_all(dir);
}
