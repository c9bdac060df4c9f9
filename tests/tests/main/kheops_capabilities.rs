//! KHEOPS capability tokens over HTTP (kheops.md 1, 2, 3, 5, 10, 11): create, list, get,
//! revoke and introspect, the settings of their lifetimes, the order of the create checks,
//! time and boolean parsing, expiry and revocation on the wire (also across two server
//! processes), and the secret shown once and stored only as its SHA-256 digest. Content
//! negotiation and the `/api` mount are in `kheops_routes`.

use auth_core::secrets::sha256_hex;
use serde_json::Value;
use tessera_tests::kheops::*;
use tessera_tests::time::{fmt_ms, now_ms, parse_time, parts, sleep_until, timed, DAY_MS, HOUR_MS};
use tessera_tests::{json, keys, sorted, string_field, Options, Server, TestDb, World};

/// The list order of 5.5: `issued_at_time` descending, ties by `id` ascending (bytes).
#[track_caller]
fn assert_sorted(items: &[Value]) {
    for pair in items.windows(2) {
        let a = parse_time(&pair[0]["issued_at_time"]);
        let b = parse_time(&pair[1]["issued_at_time"]);
        let (x, y) = (string_field(&pair[0], "id"), string_field(&pair[1], "id"));
        let ordered = a > b || (a == b && x.as_bytes() < y.as_bytes());
        assert!(ordered, "not sorted: {} then {}", pair[0], pair[1]);
    }
}

/// The fields of a token's JSON (5.3); album tokens add the album and the permissions.
const TOKEN_KEYS: [&str; 11] = [
    "id",
    "secret",
    "access_token",
    "token_type",
    "title",
    "scope_type",
    "issued_at_time",
    "not_before_time",
    "expiration_time",
    "revoked",
    "created_by",
];

/// Whole seconds of a response time, as introspection writes them.
#[track_caller]
fn secs(time: &Value) -> i64 {
    parse_time(time).div_euclid(1000)
}

/// The introspection answer of an active token of `sub` (5.8).
fn active_json(sub: &str, cap: &Cap, scope: Option<&str>, album: Option<&str>) -> Value {
    let t = &cap.json;
    let mut want = json!({
        "active": true,
        "sub": sub,
        "cap_token": cap.id,
        "exp": secs(&t["expiration_time"]),
        "iat": secs(&t["issued_at_time"]),
        "nbf": secs(&t["not_before_time"]),
    });
    if let Some(scope) = scope {
        want["scope"] = json!(scope);
    }
    if let Some(album) = album {
        want["album_id"] = json!(album);
    }
    want
}

// ---------------------------------------------------------------------------------------
// 5.3, 5.4: the create response.

#[test]
fn create_answers_the_token_json_field_by_field_for_both_scopes() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Study group");

    // Album scope.
    let before = now_ms();
    let fields = [
        ("title", "Twitter token"),
        ("scope_type", "album"),
        ("album", &album),
        ("read_permission", "true"),
        ("download_permission", "true"),
    ];
    let resp = s.create_cap(a, &fields);
    let after = now_ms();
    let t = resp.assert_status(201).json();
    resp.assert_json_type();
    resp.assert_no_store();
    assert_no_null(&t);
    let mut album_keys = TOKEN_KEYS.to_vec();
    album_keys.push("album");
    album_keys.extend(PERMISSIONS);
    assert_eq!(keys(&t), sorted(&album_keys), "{t}");
    assert_alnum(&t["id"], 10);
    let secret = assert_alnum(&t["secret"], 22);
    assert_eq!(t["access_token"], secret.as_str());
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["title"], "Twitter token");
    assert_eq!(t["scope_type"], "album");
    assert_eq!(t["revoked"], false);
    let album_ref = json!({"id": album, "album_id": album, "name": "Study group"});
    assert_eq!(t["album"], album_ref);
    for (p, value) in PERMISSIONS.iter().zip([true, false, true, false]) {
        assert_eq!(t[p], value, "{p}");
    }
    assert_eq!(t["created_by"], w.user("alice"));
    // Defaults: not_before = issued_at, expiration = issued_at + 3 days.
    let issued = parse_time(&t["issued_at_time"]);
    let within = issued >= before - 1000 && issued <= after + 1000;
    assert!(
        within,
        "issued_at_time {issued} not within [{before}, {after}]"
    );
    assert_eq!(t["not_before_time"], t["issued_at_time"]);
    assert_eq!(parse_time(&t["not_before_time"]), issued);
    assert_eq!(parse_time(&t["expiration_time"]), issued + THREE_DAYS_MS);

    // User scope, by a user without a space in the name; `album` is ignored, the
    // permission parameters are validated but not reported.
    let fields = [
        ("title", "script"),
        ("scope_type", "user"),
        ("album", "NoSuchAlbm"),
        ("read_permission", "true"),
        ("write_permission", "true"),
    ];
    let resp = s.create_cap(&w.bob, &fields);
    let u = resp.assert_status(201).json();
    resp.assert_no_store();
    assert_no_null(&u);
    assert_eq!(keys(&u), sorted(&TOKEN_KEYS), "{u}");
    assert_alnum(&u["id"], 10);
    let user_secret = assert_alnum(&u["secret"], 22);
    assert_eq!(u["access_token"], user_secret.as_str());
    assert_eq!(u["token_type"], "Bearer");
    assert_eq!(u["title"], "script");
    assert_eq!(u["scope_type"], "user");
    assert_eq!(u["revoked"], false);
    assert_eq!(u["created_by"], w.user("bob"));
    let issued = parse_time(&u["issued_at_time"]);
    assert_eq!(u["not_before_time"], u["issued_at_time"]);
    assert_eq!(parse_time(&u["expiration_time"]), issued + THREE_DAYS_MS);

    // first_name is up to the first space, last_name the rest.
    let c = s.user_cap(&w.carol, "carol's");
    assert_eq!(c.json["created_by"], w.user("carol"));

    // scope_type is case-insensitive and reported in lower case; a write-only album
    // token is valid; the title is kept as given (not trimmed) and may repeat.
    let fields = [
        ("title", "  Twitter token "),
        ("scope_type", "ALBUM"),
        ("album", &album),
        ("write_permission", "true"),
    ];
    let w_only = s.new_cap(a, &fields).json;
    assert_eq!(w_only["scope_type"], "album");
    assert_eq!(w_only["title"], "  Twitter token ");
    for (p, value) in PERMISSIONS.iter().zip([false, true, false, false]) {
        assert_eq!(w_only[p], value, "{p}");
    }
    let mut fields = vec![("title", "all"), ("scope_type", "Album"), ("album", &album)];
    fields.extend(PERMISSIONS.map(|p| (p, "true")));
    let all = s.new_cap(a, &fields).json;
    for p in PERMISSIONS {
        assert_eq!(all[p], true, "{p}");
    }
    let user_upper = s.new_cap(a, &[("title", "u"), ("scope_type", "USER")]);
    assert_eq!(user_upper.json["scope_type"], "user");

    // A title of 255 Unicode scalar values is accepted.
    let long: String = "é".repeat(255);
    let l = s.new_cap(a, &[("title", &long), ("scope_type", "user")]);
    assert_eq!(l.json["title"], long.as_str());

    // Ids and secrets are all distinct.
    let tokens = [&t, &u, &c.json, &w_only, &all, &user_upper.json, &l.json];
    for field in ["id", "secret"] {
        let mut values: Vec<String> = tokens.iter().map(|t| string_field(t, field)).collect();
        values.sort();
        values.dedup();
        assert_eq!(values.len(), tokens.len(), "{field}: {values:?}");
    }

    // Accept admitting JSON is fine.
    for accept in [
        "application/json",
        "application/*",
        "*/*",
        "text/html, application/json;q=0.5",
    ] {
        let resp = s
            .request("POST", "/capabilities")
            .bearer(a)
            .header("Accept", accept)
            .form(&[("title", "t"), ("scope_type", "user")])
            .send();
        assert_eq!(resp.status, 201, "Accept {accept}: {}", resp.body);
    }
}

// ---------------------------------------------------------------------------------------
// 5.4: the checks, in order, and 3.1/3.2 on create.

#[test]
fn create_runs_the_checks_in_the_order_of_the_table() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "A");
    s.put_member(a, &album, &w.carol_id).assert_status(201);
    let future = fmt_ms(now_ms() + HOUR_MS);
    let past = fmt_ms(now_ms() - HOUR_MS);
    let create = |fields: &[(&str, &str)]| s.create_cap(a, fields);

    // 1: no credential (also with otherwise bad parameters), and the 401 challenges.
    s.request("POST", "/capabilities")
        .form(&[("scope_type", "user")])
        .send()
        .assert_unauthorized(MALFORMED);
    assert_challenges(&s.challenges("POST", "/capabilities", None));
    for header in [
        "Bearer ",
        "Token abc",
        "Basic !!!notbase64",
        "Basic bm9jb2xvbg==",
    ] {
        s.request("POST", "/capabilities")
            .header("Authorization", header)
            .form(&[("title", "t"), ("scope_type", "user")])
            .send()
            .assert_unauthorized(MALFORMED);
    }
    for bad in ["not-a-token", "ABCDEFGHIJKLMNOPQRSTUV"] {
        s.create_cap(bad, &[("scope_type", "user")])
            .assert_unauthorized(NOT_VALID);
    }
    // A capability principal fails rule 1 before rule 2.
    let cap = s.user_cap(a, "cap");
    s.create_cap(&cap.secret, &[("scope_type", "user")])
        .assert_unauthorized(CAP_RESOURCES);
    // The scheme name is case-insensitive, surrounding whitespace ignored.
    s.request("POST", "/capabilities")
        .header("Authorization", &format!("bEaReR   {a}  "))
        .form(&[("title", "t"), ("scope_type", "user")])
        .send()
        .assert_status(201);

    let user = ("scope_type", "user");
    let in_album = "scope_type=album&album=NoSuchAlbm";
    let in_two_hours = fmt_ms(now_ms() + 2 * HOUR_MS);
    let two_hours_ago = fmt_ms(now_ms() - 2 * HOUR_MS);
    let in_four_days = fmt_ms(now_ms() + 4 * DAY_MS);
    let too_late = fmt_ms(now_ms() + 366 * DAY_MS);
    let (form, query) = ("Bad Form Parameter", "Bad Query Parameter");
    let title_req = "Param 'title' is required";
    let scope_req = "Param 'scope_type' is required";
    let appr = "'appropriate_permission' is available only if 'read_permission' is true";
    let down = "'download_permission' is available only if 'read_permission' is true";
    let scope_bad = "'scope_type' must be 'user' or 'album'";
    let album_req = "'album' query parameter must be set with an album id";
    let after_nbf = "'expiration_time' must be after 'not_before_time'";
    let too_long =
        |n| format!("Param 'title' is too long max expected: 255 characters but got :{n}");
    let parsing = |p: &str| format!("An error occurred while parsing '{p}'");
    let boolean = |p: &str| format!("Param '{p}' must be 'true' or 'false'");
    let (long_256, long_300) = ("é".repeat(256), "x".repeat(300));
    // (form, message, detail): each request also breaks a later rule, which must not win.
    let cases = [
        // 2: title missing or empty, before 5.
        ("scope_type=user".to_owned(), form, title_req.to_owned()),
        ("title=&scope_type=user&read_permission=yes".to_owned(), form, title_req.to_owned()),
        (String::new(), form, title_req.to_owned()),
        // 3: title too long (counted in Unicode scalar values), before 4.
        (format!("title={long_256}"), form, too_long(256)),
        (format!("title={long_300}&scope_type=user"), form, too_long(300)),
        // 4: scope_type missing or empty, before 5.
        ("title=t&read_permission=1".to_owned(), form, scope_req.to_owned()),
        ("title=t&scope_type=".to_owned(), form, scope_req.to_owned()),
        // 5: a permission that is not a boolean, before 6.
        (
            format!("title=t&scope_type=album&album={album}&read_permission=yes&appropriate_permission=true"),
            form,
            boolean("read_permission"),
        ),
        // 6: appropriate without read, before 7 (also for user scope).
        (
            "title=t&scope_type=user&appropriate_permission=true&download_permission=true".to_owned(),
            query,
            appr.to_owned(),
        ),
        (
            format!("title=t&scope_type=album&album={album}&read_permission=false&appropriate_permission=true"),
            query,
            appr.to_owned(),
        ),
        // 7: download without read, before 8.
        (
            "title=t&scope_type=user&download_permission=true&not_before_time=yesterday".to_owned(),
            query,
            down.to_owned(),
        ),
        // 8: not_before_time unparsable, before 9.
        (
            "title=t&scope_type=user&not_before_time=soon&expiration_time=later".to_owned(),
            query,
            parsing("not_before_time"),
        ),
        // 9: expiration_time unparsable, before 10.
        (
            "title=t&scope_type=group&expiration_time=later".to_owned(),
            query,
            parsing("expiration_time"),
        ),
        // 10: bad scope_type, before 11.
        ("title=t&scope_type=group".to_owned(), query, scope_bad.to_owned()),
        (format!("title=t&scope_type=albums&expiration_time={past}"), query, scope_bad.to_owned()),
        // 11: album scope without album (absent or empty), before 12.
        (
            format!("title=t&scope_type=album&not_before_time={future}&expiration_time={past}"),
            query,
            album_req.to_owned(),
        ),
        ("title=t&scope_type=album&album=".to_owned(), query, album_req.to_owned()),
        // 12: expiration not after not_before, before 13 and 15.
        (
            format!("title=t&scope_type=user&not_before_time={in_two_hours}&expiration_time={future}"),
            form,
            after_nbf.to_owned(),
        ),
        (
            format!("title=t&scope_type=user&not_before_time={future}&expiration_time={future}"),
            form,
            after_nbf.to_owned(),
        ),
        // ... an expiration in the past that is also before not_before: rule 12.
        (
            format!("title=t&{in_album}&not_before_time={future}&expiration_time={past}"),
            form,
            after_nbf.to_owned(),
        ),
        // ... only not_before given, after the default expiration.
        (
            format!("title=t&scope_type=user&not_before_time={in_four_days}"),
            form,
            after_nbf.to_owned(),
        ),
        // 13: expiration not in the future, before 15.
        (
            format!("title=t&{in_album}&not_before_time={two_hours_ago}&expiration_time={past}"),
            form,
            "'expiration_time' must be in the future".to_owned(),
        ),
        // Without not_before_time it defaults to the issue time, so a past expiration
        // alone already fails rule 12.
        (format!("title=t&scope_type=user&expiration_time={past}"), form, after_nbf.to_owned()),
        // 14: beyond the maximum lifetime (365 days by default), before 15.
        (
            format!("title=t&{in_album}&expiration_time={too_late}"),
            form,
            "'expiration_time' exceeds the maximum lifetime of 31536000 seconds".to_owned(),
        ),
    ];
    for (fields, message, detail) in &cases {
        let resp = create(&form_fields(fields));
        assert_eq!(resp.status, 400, "{fields}: {}", resp.body);
        resp.assert_kheops_error(400, message, detail);
    }
    // 5, for each permission.
    for name in PERMISSIONS {
        for value in ["1", "yes", "0", "no", "truee"] {
            create(&[("title", "t"), user, (name, value)]).assert_bad_form(&boolean(name));
        }
    }
    let ok_late = fmt_ms(now_ms() + 364 * DAY_MS);
    let t = s.new_cap(a, &[("title", "t"), user, ("expiration_time", &ok_late)]);
    assert_eq!(t.json["expiration_time"], ok_late.as_str());

    // 15: album malformed, unknown, or the caller is not a member (the Tessera admin
    // has no special rights here).
    for (token, id) in [
        (a, "NoSuchAlbm"),
        (a, "short"),
        (a, "bad-album!"),
        (&w.dave, album.as_str()),
        (&w.admin, album.as_str()),
    ] {
        s.create_cap(
            token,
            &[("title", "t"), ("scope_type", "album"), ("album", id)],
        )
        .assert_album_not_found();
    }

    // 16: a member that is not an admin; every 401 of the family carries the challenges.
    let fields = [
        ("title", "t"),
        ("scope_type", "album"),
        ("album", &album),
        ("read_permission", "true"),
    ];
    let resp = s.create_cap(&w.carol, &fields);
    let detail = "Only an admin can generate a capability token for an album";
    resp.assert_kheops_error(401, "Not admin", detail);
    let www = resp
        .header("www-authenticate")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        www.contains("bearer") || www.contains("basic"),
        "Not admin 401: {www:?}"
    );
    // ... who can once promoted.
    s.put_admin(a, &album, &w.carol_id).assert_no_content();
    let t = s.new_cap(
        &w.carol,
        &[("title", "t"), ("scope_type", "album"), ("album", &album)],
    );
    assert_eq!(t.json["read_permission"], false);
}

// ---------------------------------------------------------------------------------------
// 1.2: times, booleans, empty and repeated parameters.

#[test]
fn create_parses_times_as_rfc3339_with_an_offset() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let with = |param: &str, value: &str| {
        s.create_cap(
            &w.alice,
            &[("title", "t"), ("scope_type", "user"), (param, value)],
        )
    };
    // A whole second, one day ahead; (date, time) of its wall clock at +02:00, -05:30.
    let t = (now_ms() / 1000 + 86_400) * 1000;
    let (date, time) = parts(t);
    let (d2, t2) = parts(t + 2 * HOUR_MS);
    let (d5, t5) = parts(t - 5 * HOUR_MS - 30 * 60_000);
    // The KHEOPS form without seconds, a whole minute a day ahead.
    let m = (now_ms() / 60_000 + 1440) * 60_000;
    let (md, mt) = parts(m);
    for (value, expected) in [
        (format!("{date}T{time}Z"), t),
        (format!("{d2}T{t2}+02:00"), t),
        (format!("{d5}T{t5}-05:30"), t),
        (format!("{date}T{time}+00:00"), t),
        (format!("{date}T{time}.5Z"), t + 500),
        (format!("{date}T{time}.123456Z"), t + 123),
        (format!("{date}T{time}.9999Z"), t + 999),
        (format!("{d2}T{t2}.5+02:00"), t + 500),
        (format!("{md}T{}Z", &mt[..5]), m),
    ] {
        let resp = with("expiration_time", &value);
        let got = resp.assert_status(201).json()["expiration_time"].clone();
        assert_eq!(got, fmt_ms(expected).as_str(), "{value}");
    }

    // Rejected forms.
    for value in [
        (t / 1000).to_string(),
        t.to_string(),
        format!("{date}T{time}"),
        format!("{date}T{time}.250"),
        date.clone(),
        format!("{d2}T{t2}+0200"),
        format!("{date}T{time}+02"),
        "tomorrow".to_owned(),
    ] {
        for param in ["expiration_time", "not_before_time"] {
            let detail = format!("An error occurred while parsing '{param}'");
            with(param, &value).assert_bad_query(&detail);
        }
    }

    // not_before_time in the past with an offset; the default expiration still counts
    // from the issue time.
    let nbf = (now_ms() / 1000 - 3600) * 1000;
    let (ld, lt) = parts(nbf + 2 * HOUR_MS);
    let value = format!("{ld}T{lt}.25+02:00");
    let tok = with("not_before_time", &value).assert_status(201).json();
    assert_eq!(tok["not_before_time"], fmt_ms(nbf + 250).as_str());
    let issued = parse_time(&tok["issued_at_time"]);
    assert_eq!(parse_time(&tok["expiration_time"]), issued + THREE_DAYS_MS);
    // not_before_time in the future: expiration still issue time + 3 days.
    let nbf = now_ms() + HOUR_MS;
    let tok = with("not_before_time", &fmt_ms(nbf))
        .assert_status(201)
        .json();
    assert_eq!(tok["not_before_time"], fmt_ms(nbf).as_str());
    let issued = parse_time(&tok["issued_at_time"]);
    assert_eq!(parse_time(&tok["expiration_time"]), issued + THREE_DAYS_MS);
}

#[test]
fn create_parses_booleans_and_treats_empty_parameters_as_absent() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "A");
    let scope = [("title", "t"), ("scope_type", "album"), ("album", &album)];
    let values = PERMISSIONS.iter().zip(["TRUE", "True", "tRuE", "FALSE"]);
    let fields: Vec<(&str, &str)> = values.map(|(p, v)| (*p, v)).collect();
    let tok = s.new_cap(a, &[&scope[..], &fields].concat()).json;
    for (p, value) in PERMISSIONS.iter().zip([true, true, true, false]) {
        assert_eq!(tok[p], value, "{p}");
    }

    // Empty values are absent: defaults apply.
    let mut fields: Vec<(&str, &str)> = PERMISSIONS.iter().map(|p| (*p, "")).collect();
    fields.extend([("not_before_time", ""), ("expiration_time", "")]);
    let tok = s.new_cap(a, &[&scope[..], &fields].concat()).json;
    for p in PERMISSIONS {
        assert_eq!(tok[p], false, "{p}");
    }
    assert_eq!(tok["not_before_time"], tok["issued_at_time"]);
    let issued = parse_time(&tok["issued_at_time"]);
    assert_eq!(parse_time(&tok["expiration_time"]), issued + THREE_DAYS_MS);
    // An empty read with download=true: read is false, so rule 7 fires.
    let fields = [
        ("title", "t"),
        ("scope_type", "user"),
        ("read_permission", ""),
        ("download_permission", "true"),
    ];
    s.create_cap(a, &fields)
        .assert_bad_query("'download_permission' is available only if 'read_permission' is true");

    // The first occurrence of a repeated parameter wins; unknown parameters are ignored;
    // names are case-sensitive.
    let fields = [
        ("title", "first"),
        ("title", "second"),
        ("scope_type", "user"),
        ("scope_type", "bogus"),
        ("colour", "blue"),
    ];
    let tok = s.new_cap(a, &fields).json;
    assert_eq!(tok["title"], "first");
    assert_eq!(tok["scope_type"], "user");
    s.create_cap(a, &[("Title", "t"), ("scope_type", "user")])
        .assert_bad_form("Param 'title' is required");
    // '+' in a raw form body decodes to a space.
    let resp = s
        .request("POST", "/capabilities")
        .bearer(a)
        .header("Content-Type", FORM)
        .raw(b"title=a+b%2Bc&scope_type=user".to_vec())
        .send();
    assert_eq!(resp.assert_status(201).json()["title"], "a b+c");
}

// ---------------------------------------------------------------------------------------
// 2: settings.

#[test]
fn lifetime_settings_apply_and_bad_values_stop_the_server() {
    let db = TestDb::new();
    let lifetimes = |default: &str, max: &str| {
        Options::default()
            .env("TESSERA_CAPABILITY_DEFAULT_LIFETIME", default)
            .env("TESSERA_CAPABILITY_MAX_LIFETIME", max)
    };
    let s = Server::start_on(&db, lifetimes("3600", "7200"));
    let w = World::new(&s);
    let a = &w.alice;
    let tok = s.user_cap(a, "t").json;
    let issued = parse_time(&tok["issued_at_time"]);
    assert_eq!(parse_time(&tok["expiration_time"]), issued + HOUR_MS);
    let with = |param: &str, value: &str| {
        s.create_cap(a, &[("title", "t"), ("scope_type", "user"), (param, value)])
    };
    // Within max (+ 5 s tolerance).
    let ok = fmt_ms(now_ms() + 7_202_000);
    let tok = with("expiration_time", &ok).assert_status(201).json();
    assert_eq!(tok["expiration_time"], ok.as_str());
    // Beyond.
    with("expiration_time", &fmt_ms(now_ms() + 7_260_000))
        .assert_bad_form("'expiration_time' exceeds the maximum lifetime of 7200 seconds");
    // Only not_before given, after the configured default expiration: rule 12.
    with("not_before_time", &fmt_ms(now_ms() + 3_700_000))
        .assert_bad_form("'expiration_time' must be after 'not_before_time'");
    drop(s);

    // Default equal to max is fine.
    let same = Server::try_start_on(&db, lifetimes("600", "600"));
    assert!(same.is_ok(), "{:?}", same.err());
    drop(same);

    // Bad values: the server does not start.
    let (default, max) = (
        "TESSERA_CAPABILITY_DEFAULT_LIFETIME",
        "TESSERA_CAPABILITY_MAX_LIFETIME",
    );
    for env in [
        vec![(default, "0")],
        vec![(max, "0")],
        vec![(default, "-5")],
        vec![(max, "abc")],
        vec![(default, "7200"), (max, "3600")],
        // Default above the default maximum of 365 days.
        vec![(default, "40000000")],
    ] {
        let options = env.iter().fold(Options::default(), |o, (k, v)| o.env(k, v));
        match Server::try_start_on(&db, options) {
            Ok(_) => panic!("started with {env:?}"),
            // The one-line reason names the bad setting.
            Err(log) => assert!(
                log.to_ascii_lowercase().contains("capability"),
                "{env:?}: {log}"
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// 5.5: list.

#[test]
fn list_in_user_mode_filters_sorts_and_pages() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let a1 = s.new_album(a, "A1");
    let a2 = s.new_album(a, "A2");
    let list = |query: &str, total: usize| s.list_caps(a, query).assert_list(total);

    // Nothing yet: [] with X-Total-Count 0.
    assert!(list("", 0).is_empty());
    assert_eq!(s.list_caps(a, "").body.trim(), "[]");

    let mut mine = vec![
        s.user_cap(a, "u1"),
        s.album_cap(a, &a1, "a1"),
        s.album_cap(a, &a2, "a2"),
        s.user_cap(a, "u2"),
    ];
    let nbf = fmt_ms(now_ms() + HOUR_MS);
    let future_nbf = s.new_cap(
        a,
        &[
            ("title", "later"),
            ("scope_type", "user"),
            ("not_before_time", &nbf),
        ],
    );
    mine.push(future_nbf.clone());
    let revoked = s.user_cap(a, "revoked");
    s.revoke(a, &revoked.id).assert_status(200);
    mine.push(revoked.clone());
    // Bob's token never shows in Alice's list.
    let bobs = s.user_cap(&w.bob, "bob's");

    let items = list("", 6);
    assert_sorted(&items);
    let mut got = ids(&items);
    got.sort();
    let mut want: Vec<String> = mine.iter().map(|t| t.id.clone()).collect();
    want.sort();
    assert_eq!(got, want);
    assert!(!got.contains(&bobs.id));
    // Items carry the token JSON without the secret.
    let a1_item = items.iter().find(|i| i["id"] == mine[1].id).unwrap();
    assert_eq!(*a1_item, without_secret(&mine[1].json));
    let revoked_item = items.iter().find(|i| i["id"] == revoked.id).unwrap();
    assert_eq!(revoked_item["revoked"], true);
    parse_time(&revoked_item["revoke_time"]);
    assert_eq!(revoked_item["revoked_by"], w.user("alice"));

    // valid=true: not revoked, not before not_before.
    let valid = list("?valid=true", 4);
    assert_sorted(&valid);
    assert!(!ids(&valid).contains(&revoked.id));
    assert!(!ids(&valid).contains(&future_nbf.id));
    list("?valid=TRUE", 4);
    for query in ["?valid=false", "?valid=False", "?valid="] {
        list(query, 6);
    }

    // limit / offset: the total is counted before them.
    let all_ids = ids(&items);
    assert_eq!(ids(&list("?limit=2", 6)), all_ids[..2]);
    assert_eq!(ids(&list("?limit=2&offset=2", 6)), all_ids[2..4]);
    assert_eq!(ids(&list("?offset=5", 6)), all_ids[5..]);
    assert!(list("?offset=6", 6).is_empty());
    assert!(list("?limit=0", 6).is_empty());
    assert_eq!(ids(&list("?limit=5000", 6)), all_ids);
    let page = list("?limit=1&offset=1&valid=true", 4);
    assert_eq!(ids(&page), ids(&valid)[1..2]);

    // Bad query parameters.
    let integer = |p: &str| format!("Param '{p}' must be a non-negative integer");
    let boolean = "Param 'valid' must be 'true' or 'false'".to_owned();
    for (query, detail) in [
        ("?valid=yes", boolean.clone()),
        ("?valid=1", boolean),
        ("?limit=-1", integer("limit")),
        ("?limit=abc", integer("limit")),
        ("?limit=1.5", integer("limit")),
        ("?offset=-1", integer("offset")),
        ("?offset=x", integer("offset")),
        ("?limit=-1&album=NoSuchAlbm", integer("limit")),
        ("?offset=-1&user=nobody@test.com", integer("offset")),
    ] {
        s.list_caps(a, query).assert_bad_query(&detail);
    }

    // user=: sub or email (case-insensitive, trimmed, no wildcards).
    for who in [
        &w.alice_id,
        "alice@test.com",
        "ALICE@Test.COM",
        "%20alice@test.com%20",
    ] {
        list(&format!("?user={who}"), 6);
    }
    assert!(list(&format!("?user={}", w.bob_id), 0).is_empty());
    list("?user=bob@test.com", 0);
    // The sub must match exactly.
    let upper = w.alice_id.to_uppercase();
    for who in [
        "nobody@test.com",
        "%25@test.com",
        "alice%25",
        "_lice@test.com",
        "no-such-sub",
        &upper,
    ] {
        s.list_caps(a, &format!("?user={who}"))
            .assert_user_unknown();
    }

    // Bob sees his one token; Dave has none.
    assert_eq!(ids(&s.list_caps(&w.bob, "").assert_list(1)), [bobs.id]);
    s.list_caps(&w.dave, "").assert_list(0);
}

#[test]
fn list_in_album_mode_needs_an_admin_and_shows_every_creator() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.shared_album(&w, "Shared");
    let other = s.new_album(a, "Other");

    let a1 = s.album_cap(a, &album, "a1");
    let a2 = s.album_cap(a, &album, "a2");
    let b1 = s.album_cap(&w.bob, &album, "b1");
    s.user_cap(a, "user scope");
    s.album_cap(a, &other, "other album");
    let in_album = |token: &str, query: &str, total: usize| {
        s.list_caps(token, &format!("?album={album}{query}"))
            .assert_list(total)
    };

    for token in [a, &w.bob] {
        let items = in_album(token, "", 3);
        assert_sorted(&items);
        let mut got = ids(&items);
        got.sort();
        let mut want = vec![a1.id.clone(), a2.id.clone(), b1.id.clone()];
        want.sort();
        assert_eq!(got, want);
    }
    let items = in_album(a, &format!("&user={}", w.bob_id), 1);
    assert_eq!(ids(&items), [&*b1.id]);
    assert_eq!(items[0]["created_by"], w.user("bob"));
    assert_sorted(&in_album(&w.bob, "&user=ALICE@TEST.COM", 2));
    assert_eq!(in_album(a, "&limit=1&offset=1", 3).len(), 1);
    // A user with no token on the album.
    in_album(a, &format!("&user={}", w.carol_id), 0);
    // valid=true drops revoked ones.
    s.revoke(&w.bob, &a1.id).assert_status(200);
    assert!(!ids(&in_album(a, "&valid=true", 2)).contains(&a1.id));

    // Non-admin member: 403 (before the user check).
    for query in ["", "&user=nobody@test.com"] {
        s.list_caps(&w.carol, &format!("?album={album}{query}"))
            .assert_forbidden(ON_ALBUM);
    }
    // Not a member, unknown, malformed: 404 (before the user check).
    for (token, id) in [
        (&w.dave, album.as_str()),
        (&w.admin, album.as_str()),
        (a, "NoSuchAlbm"),
        (a, "bad"),
    ] {
        s.list_caps(token, &format!("?album={id}&user=nobody@test.com"))
            .assert_album_not_found();
    }
    // Unknown user for an admin.
    s.list_caps(a, &format!("?album={album}&user=nobody@test.com"))
        .assert_user_unknown();
    // An album without tokens.
    let empty = s.new_album(&w.dave, "Empty");
    assert!(s
        .list_caps(&w.dave, &format!("?album={empty}"))
        .assert_list(0)
        .is_empty());
}

// ---------------------------------------------------------------------------------------
// 5.6: get one.

#[test]
fn get_one_is_visible_to_the_creator_and_current_album_admins_only() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.shared_album(&w, "Album");
    let created = s.album_cap(a, &album, "viewer");
    let user = s.user_cap(a, "script");
    let (id, user_id) = (&created.id, &user.id);

    // The creator: the create JSON without the secret.
    let resp = s.get_cap(a, id);
    let got = resp.assert_status(200).json();
    resp.assert_json_type();
    assert_eq!(got, without_secret(&created.json));
    assert_no_null(&got);
    let resp = s.get_cap(a, user_id);
    assert_eq!(resp.assert_status(200).json(), without_secret(&user.json));

    // Another current admin of the album sees album tokens, not the creator's user tokens.
    assert_eq!(s.get_cap(&w.bob, id).json(), got);
    s.get_cap(&w.bob, user_id).assert_cap_not_found();
    // A non-admin member, an outsider, the Tessera admin: not found.
    for token in [&w.carol, &w.dave, &w.admin] {
        s.get_cap(token, id).assert_cap_not_found();
        s.get_cap(token, user_id).assert_cap_not_found();
    }
    // Unknown and malformed ids.
    for bad in ["NoSuchCap0", "short", "toolongid123", "bad-id-!!!"] {
        s.get_cap(a, bad).assert_cap_not_found();
    }

    // The album name shown is the current one.
    s.patch_album(a, &album, &[("name", "Renamed")])
        .assert_status(200);
    let renamed = json!({"id": album, "album_id": album, "name": "Renamed"});
    assert_eq!(s.get_cap(a, id).json()["album"], renamed);

    // An album-scope secret as credential: 403.
    s.get_cap(&created.secret, id).assert_forbidden(TOKEN_TYPE);
    s.request("GET", &format!("/capabilities/{user_id}"))
        .basic("x", &created.secret)
        .send()
        .assert_forbidden(TOKEN_TYPE);
    // A user-scope secret acts as its creator (Bearer and Basic).
    for resp in [
        s.get_cap(&user.secret, id),
        s.request("GET", &format!("/capabilities/{id}"))
            .basic("anything", &user.secret)
            .send(),
    ] {
        let body = resp.assert_status(200).json();
        assert_eq!(body["id"], id.as_str());
        assert!(body.get("secret").is_none());
    }
    s.get_cap(&user.secret, user_id).assert_status(200);
    // ... but sees only what the creator sees.
    let bob_user = s.user_cap(&w.bob, "bob");
    s.get_cap(&user.secret, &bob_user.id).assert_cap_not_found();

    // Bob stops being an admin: he no longer sees Alice's album token.
    s.del_admin(a, &album, &w.bob_id).assert_no_content();
    s.get_cap(&w.bob, id).assert_cap_not_found();
    // Carol promoted now sees it.
    s.put_admin(a, &album, &w.carol_id).assert_no_content();
    s.get_cap(&w.carol, id).assert_status(200);
    // No credential.
    let path = format!("/capabilities/{id}");
    s.get(&path).assert_unauthorized(MALFORMED);
    assert_challenges(&s.challenges("GET", &path, None));
}

// ---------------------------------------------------------------------------------------
// 5.7: revoke.

#[test]
fn revoke_sets_time_and_revoker_once_and_refuses_the_token() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.shared_album(&w, "Album");
    let tok = s.album_cap(a, &album, "viewer");
    let (id, secret) = (&tok.id, &tok.secret);

    // Usable before.
    s.album(secret, &album).assert_status(200);

    // Not visible: 404, nothing changes.
    for token in [&w.carol, &w.dave, &w.admin] {
        s.revoke(token, id).assert_cap_not_found();
    }
    for bad in ["NoSuchCap0", "short", "bad-id-!!!"] {
        s.revoke(a, bad).assert_cap_not_found();
    }
    assert_eq!(s.get_cap(a, id).json()["revoked"], false);

    // Bob, another admin of the album, revokes Alice's token.
    let before = now_ms();
    let resp = s.revoke(&w.bob, id);
    let after = now_ms();
    let r = resp.assert_status(200).json();
    resp.assert_json_type();
    assert_no_null(&r);
    assert!(!resp.body.contains(secret.as_str()));
    assert_eq!(r["revoked"], true);
    let revoke_time = parse_time(&r["revoke_time"]);
    assert!(revoke_time >= before - 1000 && revoke_time <= after + 1000);
    assert_eq!(r["revoked_by"], w.user("bob"));
    parse_time(&r["last_used"]);
    let mut expected = without_secret(&tok.json);
    for field in ["revoked", "revoke_time", "revoked_by", "last_used"] {
        expected[field] = r[field].clone();
    }
    assert_eq!(r, expected);

    // Second revoke, by the creator: a 200 no-op.
    tessera_tests::time::pause();
    assert_eq!(s.revoke(a, id).assert_status(200).json(), r);
    assert_eq!(s.get_cap(a, id).json(), r);
    assert_eq!(s.get_cap(&w.bob, id).json(), r);

    // Refused at once everywhere.
    s.album(secret, &album).assert_unauthorized(NOT_VALID);
    assert!(!s.active(secret));
    // A revoked secret on capability management: not usable, so "not valid".
    s.create_cap(secret, &[("title", "t"), ("scope_type", "user")])
        .assert_unauthorized(NOT_VALID);

    // The creator revokes a user-scope token: revoked_by is the creator.
    let u = s.user_cap(a, "script");
    let resp = s.revoke(a, &u.id);
    assert_eq!(
        resp.assert_status(200).json()["revoked_by"],
        w.user("alice")
    );
    s.get_as(&u.secret, "/albums")
        .assert_unauthorized(NOT_VALID);
    // Bob (album admin) cannot see or revoke Alice's user-scope token.
    let u2 = s.user_cap(a, "script 2");
    s.revoke(&w.bob, &u2.id).assert_cap_not_found();

    // No credential.
    s.request("POST", &format!("/capabilities/{}/revoke", u2.id))
        .send()
        .assert_unauthorized(MALFORMED);
    assert_eq!(s.get_cap(a, &u2.id).json()["revoked"], false);
}

// ---------------------------------------------------------------------------------------
// 3.3: capability secrets cannot manage capability tokens.

#[test]
fn capability_secrets_are_refused_on_create_list_and_revoke() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    let album_tok = s.album_cap(a, &album, "viewer");
    let user_tok = s.user_cap(a, "script");
    let target = s.user_cap(a, "target");

    for tok in [&album_tok, &user_tok] {
        assert!(s.get_cap(a, &tok.id).json().get("last_used").is_none());
        for basic in [false, true] {
            let with = |method: &str, path: &str| auth(s.request(method, path), &tok.secret, basic);
            let album_fields = [
                ("title", "t"),
                ("scope_type", "album"),
                ("album", &album),
                ("read_permission", "true"),
            ];
            for resp in [
                with("POST", "/capabilities")
                    .form(&[("title", "t"), ("scope_type", "user")])
                    .send(),
                with("POST", "/capabilities").form(&album_fields).send(),
                with("GET", "/capabilities").send(),
                with("GET", &format!("/capabilities?album={album}")).send(),
                with("POST", &format!("/capabilities/{}/revoke", target.id)).send(),
                with("POST", &format!("/capabilities/{}/revoke", tok.id)).send(),
            ] {
                resp.assert_unauthorized(CAP_RESOURCES);
            }
        }
        // The refused uses still count as uses (5.2).
        let after = s.get_cap(a, &tok.id).json();
        let last_used = parse_time(&after["last_used"]);
        assert!(last_used >= parse_time(&after["issued_at_time"]), "{after}");
        assert_eq!(after["revoked"], false);
    }
    // Nothing was created or revoked.
    s.list_caps(a, "").assert_list(3);
    assert_eq!(s.get_cap(a, &target.id).json()["revoked"], false);
}

// ---------------------------------------------------------------------------------------
// 5.8: introspection.

#[test]
fn introspection_reports_active_tokens_and_only_active_false_otherwise() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    let perms = |values: [&str; 4]| {
        let mut fields = vec![("title", "t"), ("scope_type", "album"), ("album", &album)];
        fields.extend(PERMISSIONS.iter().zip(values).map(|(p, v)| (*p, v)));
        s.new_cap(a, &fields)
    };
    let cases = [
        (
            perms(["true", "false", "true", "false"]),
            Some("read downloadbutton"),
        ),
        (
            perms(["true", "true", "true", "true"]),
            Some("read write downloadbutton send"),
        ),
        (perms(["true", "false", "false", "true"]), Some("read send")),
        (perms(["false", "true", "false", "false"]), Some("write")),
        (perms(["true", "false", "false", "false"]), Some("read")),
        (perms(["false", "false", "false", "false"]), None),
    ];
    for (tok, scope) in &cases {
        assert!(s.get_cap(a, &tok.id).json().get("last_used").is_none());
        let before = now_ms();
        let resp = s.introspect(&tok.secret);
        let body = resp.assert_status(200).json();
        resp.assert_json_type();
        resp.assert_no_store();
        assert_eq!(body, active_json(&w.alice_id, tok, *scope, Some(&album)));
        assert!(body["exp"].is_i64() && body["iat"].is_i64() && body["nbf"].is_i64());
        assert!(!resp.body.contains(&tok.secret));
        // Counts as a use.
        let after = s.get_cap(a, &tok.id).json();
        let last_used = parse_time(&after["last_used"]);
        let within = last_used >= before - 1000 && last_used <= now_ms() + 1000;
        assert!(within, "{after}");
    }

    // User scope: always every word, no album_id, whatever the permission parameters.
    let write = [
        ("title", "u"),
        ("scope_type", "user"),
        ("write_permission", "true"),
    ];
    for tok in [s.user_cap(a, "u"), s.new_cap(a, &write)] {
        let resp = s.introspect(&tok.secret);
        resp.assert_no_store();
        let scope = Some("user read write downloadbutton send");
        assert_eq!(resp.json(), active_json(&w.alice_id, &tok, scope, None));
    }
    // A time with a fraction is rounded down.
    let exp = (now_ms() / 1000 + 7200) * 1000 + 999;
    let fields = [
        ("title", "u"),
        ("scope_type", "user"),
        ("expiration_time", &fmt_ms(exp)),
    ];
    let tok = s.new_cap(&w.bob, &fields);
    let body = s.introspect(&tok.secret).json();
    assert_eq!(body["exp"], exp / 1000);
    assert_eq!(body["sub"], w.bob_id.as_str());

    // token_type_hint and an Authorization header are ignored.
    let resp = s
        .request("POST", "/token/introspect")
        .bearer("garbage")
        .form(&[
            ("token", &cases[0].0.secret),
            ("token_type_hint", "refresh_token"),
        ])
        .send();
    assert_eq!(resp.assert_status(200).json()["active"], true);

    // Inactive: exactly {"active": false}, with no-store.
    let revoked = s.user_cap(a, "revoked");
    s.revoke(a, &revoked.id).assert_status(200);
    let nbf = fmt_ms(now_ms() + HOUR_MS);
    let later = s.new_cap(
        a,
        &[
            ("title", "later"),
            ("scope_type", "user"),
            ("not_before_time", &nbf),
        ],
    );
    for resp in [
        s.introspect(&revoked.secret),
        s.introspect(&later.secret),
        s.introspect("ABCDEFGHIJKLMNOPQRSTUV"),
        s.introspect("not a token"),
        s.introspect(""),
        s.introspect(&later.id),
        s.introspect(a),
        s.introspect(&w.admin),
        s.request("POST", "/token/introspect")
            .form(&[("token_type_hint", "access_token")])
            .send(),
        s.request("POST", "/token/introspect")
            .header("Content-Type", FORM)
            .send(),
    ] {
        assert_eq!(resp.assert_status(200).json(), json!({"active": false}));
        resp.assert_no_store();
        resp.assert_json_type();
    }
    // An unusable token is not marked as used.
    for tok in [&later, &revoked] {
        assert!(s.get_cap(a, &tok.id).json().get("last_used").is_none());
    }
    // last_used also shows in the list.
    let items = s.list_caps(a, "").assert_list(10);
    let used = items.iter().find(|i| i["id"] == cases[0].0.id).unwrap();
    parse_time(&used["last_used"]);
}

// ---------------------------------------------------------------------------------------
// 5.2 on the wire: expiry with its 5 s leeway.

#[test]
fn expired_tokens_stop_working_after_the_leeway() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    let exp_s = fmt_ms(now_ms() + 1500);
    let album_tok = s.new_cap(
        a,
        &[
            ("title", "short"),
            ("scope_type", "album"),
            ("album", &album),
            ("read_permission", "true"),
            ("expiration_time", &exp_s),
        ],
    );
    let fields = [
        ("title", "user"),
        ("scope_type", "user"),
        ("expiration_time", &exp_s),
    ];
    let user_tok = s.new_cap(a, &fields);
    let lasting = s.user_cap(a, "lasting");
    // The boundaries come from the tokens as the API reports them: not "valid" in lists
    // from the expiration on (no leeway there), usable until 5 s after it.
    let exp = parse_time(&album_tok.json["expiration_time"]);
    assert_eq!(album_tok.json["expiration_time"], exp_s.as_str());
    assert_eq!(user_tok.json["expiration_time"], exp_s.as_str());
    let usable_until = exp + 5000;
    let path = format!("/albums/{album}");
    let reduced = sorted(&["album_id", "id", "name", "description"]);
    // Each request is checked against the side of the boundary it fell on.
    let check = || {
        let (valid, side) = timed(exp, || s.list_caps(a, "?valid=true"));
        match side {
            Some(true) => assert_eq!(valid.assert_list(3).len(), 3),
            Some(false) => assert_eq!(ids(&valid.assert_list(1)), [&*lasting.id]),
            None => {}
        }
        s.list_caps(a, "").assert_list(3);
        for tok in [&album_tok, &user_tok] {
            let secret = &tok.secret;
            let (active, side) = timed(usable_until, || s.active(secret));
            assert!(side.is_none() || side == Some(active), "active: {active}");
            for basic in [false, true] {
                let (resp, side) = timed(usable_until, || {
                    auth(s.request("GET", &path), secret, basic).send()
                });
                match side {
                    // The album token reads the reduced album; the user token acts as alice.
                    Some(true) if tok.id == album_tok.id => {
                        assert_eq!(keys(&resp.assert_status(200).json()), reduced)
                    }
                    Some(true) => assert_eq!(resp.assert_status(200).json()["is_admin"], true),
                    Some(false) => resp.assert_unauthorized(NOT_VALID),
                    None => {}
                }
            }
        }
    };
    check();
    sleep_until(exp + 1);
    check();
    sleep_until(usable_until + 1);
    check();

    // Revoking an expired token changes nothing.
    for tok in [&album_tok, &user_tok] {
        let before = s.get_cap(a, &tok.id).json();
        let r = s.revoke(a, &tok.id).assert_status(200).json();
        assert_eq!(r["revoked"], false, "{r}");
        assert!(r.get("revoke_time").is_none(), "{r}");
        assert!(r.get("revoked_by").is_none(), "{r}");
        assert_eq!(r, before);
        assert_eq!(s.get_cap(a, &tok.id).json(), before);
    }
}

// ---------------------------------------------------------------------------------------
// 6: revocation seen by a second server process on the same database.

#[test]
fn a_second_server_sees_tokens_and_revocations_at_once() {
    let db = TestDb::new();
    let a = Server::start_on(&db, Options::default());
    let b = Server::start_on(&db, Options::default());
    let w = World::new(&a);
    let album = a.new_album(&w.alice, "Album");
    let tok = a.album_cap(&w.alice, &album, "viewer");

    b.album(&tok.secret, &album).assert_status(200);
    assert!(b.active(&tok.secret));
    assert_eq!(b.get_cap(&w.alice, &tok.id).json()["id"], tok.id.as_str());

    // Revoked on A, refused by B at once.
    a.revoke(&w.alice, &tok.id).assert_status(200);
    b.album(&tok.secret, &album).assert_unauthorized(NOT_VALID);
    assert!(!b.active(&tok.secret));

    // And the other way round.
    let u = b.user_cap(&w.alice, "from b");
    a.album(&u.secret, &album).assert_status(200);
    assert!(ids(&a.list_caps(&w.alice, "").assert_list(2)).contains(&u.id));
    b.revoke(&w.alice, &u.id).assert_status(200);
    a.album(&u.secret, &album).assert_unauthorized(NOT_VALID);
    assert!(!a.active(&u.secret));
}

// ---------------------------------------------------------------------------------------
// 5.1: the secret is shown once and stored only as its digest.

#[test]
fn the_secret_is_shown_once_and_stored_only_as_its_sha256_digest() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    for tok in [s.album_cap(a, &album, "viewer"), s.user_cap(a, "script")] {
        let (secret, id) = (&tok.secret, &tok.id);
        // Use it, so that it is touched in the database.
        assert!(s.active(secret));
        s.album(secret, &album).assert_status(200);
        let bodies = [
            s.list_caps(a, ""),
            s.list_caps(a, &format!("?album={album}")),
            s.get_cap(a, id),
            s.introspect(secret),
            s.revoke(a, id).assert_status(200).clone(),
            s.revoke(a, id),
            s.get_cap(a, id),
            s.introspect(secret),
        ];
        for resp in &bodies {
            assert!(
                !resp.body.contains(secret.as_str()),
                "secret in {}",
                resp.body
            );
        }

        let dump = db.dump_text();
        assert!(!dump.contains(secret.as_str()), "plaintext secret stored");
        assert!(dump.contains(&sha256_hex(secret)), "digest not stored");
        assert!(dump.contains(id.as_str()));
        assert!(!s.log().contains(secret.as_str()), "secret logged");
    }
}
