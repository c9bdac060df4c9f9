//! The `tessera` command line: help lists every setting, bad settings fail fast.
//! (Its presence also makes `cargo test` build the binary the black-box tests start.)

// A test crate: its helpers may unwrap too (clippy.toml covers only #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn tessera() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TESSERA_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn help_lists_every_setting_with_its_default() {
    for args in [&["--help"][..], &["serve", "--help"][..]] {
        let out = tessera().args(args).output().unwrap();
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        for var in [
            "TESSERA_DATABASE_URL",
            "TESSERA_BIND",
            "TESSERA_PUBLIC_URL",
            "TESSERA_ADMIN_EMAIL",
            "TESSERA_ADMIN_PASSWORD",
            "TESSERA_BCRYPT_COST",
            "TESSERA_SMTP_URL",
            "TESSERA_MAIL_FROM",
            "TESSERA_OUTBOX_DIR",
            "TESSERA_LOG",
            "TESSERA_LOG_FORMAT",
            "TESSERA_WORKERS",
            "TESSERA_DB_POOL_SIZE",
            "TESSERA_API_TOKEN_LIFETIME",
            "TESSERA_ACCESS_TOKEN_LIFETIME",
            "TESSERA_REFRESH_TOKEN_LIFETIME",
            "TESSERA_AUTH_CODE_LIFETIME",
            "TESSERA_SESSION_LIFETIME",
            "TESSERA_PDP_LEVEL",
            "TESSERA_OIDC_JWT_ALGORITHM",
            "TESSERA_OAUTH_ASK_AUTHORIZATION",
            "TESSERA_OAUTH_ALLOW_EMPTY_STATE",
            "TESSERA_OAUTH_PUBLIC_GRANTS",
        ] {
            assert!(help.contains(var), "{args:?} help lacks {var}");
        }
        assert!(help.contains("sqlite://./tessera-data/tessera.db"));
        assert!(help.contains("127.0.0.1:3000"));
        assert!(help.contains("[default: 10]"), "bcrypt cost default");
    }
}

fn fails_with(envs: &[(&str, &str)], needle: &str) {
    let dir = std::env::temp_dir().join(format!("tessera-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = tessera()
        .current_dir(&dir)
        .arg("serve")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(!out.status.success(), "{envs:?} should fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(needle), "{envs:?}: stderr was {stderr}");
    let lines: Vec<_> = stderr
        .lines()
        .filter(|l| l.starts_with("tessera:"))
        .collect();
    assert_eq!(lines.len(), 1, "one-line reason expected, got {stderr}");
}

#[test]
fn bad_settings_exit_non_zero_with_a_reason() {
    fails_with(
        &[("TESSERA_DATABASE_URL", "mysql://root@localhost/x")],
        "unknown database URL scheme",
    );
    fails_with(&[("TESSERA_BIND", "not-an-address")], "TESSERA_BIND");
    fails_with(
        &[("TESSERA_CONFIG", "/nonexistent/tessera.toml")],
        "cannot read config file",
    );
    // A port in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    fails_with(
        &[
            ("TESSERA_BIND", addr.as_str()),
            ("TESSERA_DATABASE_URL", "sqlite::memory:"),
            ("TESSERA_ADMIN_PASSWORD", "x"),
            ("TESSERA_BCRYPT_COST", "4"),
        ],
        "cannot listen on",
    );
}

#[test]
fn values_the_parser_refuses_get_a_one_line_reason() {
    fails_with(&[("TESSERA_BCRYPT_COST", "3")], "4..=31");
    fails_with(&[("TESSERA_WORKERS", "abc")], "--workers");
    fails_with(&[("TESSERA_PDP_LEVEL", "maximal")], "maximal");
}

#[test]
fn config_file_is_read_and_environment_wins() {
    let dir = std::env::temp_dir().join(format!("tessera-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tessera.toml");
    std::fs::write(&file, "database_url = \"oracle://x\"\n").unwrap();
    // From the file: the bad URL is seen.
    let out = tessera()
        .current_dir(&dir)
        .arg("migrate")
        .env("TESSERA_CONFIG", &file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("oracle"));
    // The environment wins over the file.
    let db = dir.join("ok.db");
    let out = tessera()
        .current_dir(&dir)
        .arg("migrate")
        .env("TESSERA_CONFIG", &file)
        .env("TESSERA_DATABASE_URL", format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists());
    // Unknown keys are refused.
    std::fs::write(&file, "colour = \"blue\"\n").unwrap();
    let out = tessera()
        .current_dir(&dir)
        .arg("migrate")
        .env("TESSERA_CONFIG", &file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour"));
    let _ = std::fs::remove_dir_all(dir);
}
