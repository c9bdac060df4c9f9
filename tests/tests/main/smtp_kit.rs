//! The test kit's SMTP server (tests/src/smtp.rs) itself: a real aiosmtpd process that
//! records what a client sent over TCP, envelope, headers and decoded body. A plain SMTP
//! dialogue written here drives it, so the kit is checked independently of Tessera.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use tessera_tests::smtp::SmtpServer;

/// Sends one message with a plain SMTP dialogue; returns the server's replies.
fn send(port: u16, from: &str, to: &[&str], message: &str) -> Vec<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    let mut replies = Vec::new();
    let mut read_reply = |reader: &mut BufReader<TcpStream>| {
        // A reply is lines "NNN-..." then "NNN ...".
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("a reply line");
            let done = line.as_bytes().get(3) != Some(&b'-');
            if done {
                replies.push(line.trim_end().to_owned());
                break;
            }
        }
    };
    read_reply(&mut reader);
    let mut command = |writer: &mut TcpStream, reader: &mut BufReader<TcpStream>, text: &str| {
        writer.write_all(text.as_bytes()).expect("write");
        read_reply(reader);
    };
    command(&mut writer, &mut reader, "EHLO kit.test\r\n");
    command(&mut writer, &mut reader, &format!("MAIL FROM:<{from}>\r\n"));
    for rcpt in to {
        command(&mut writer, &mut reader, &format!("RCPT TO:<{rcpt}>\r\n"));
    }
    command(&mut writer, &mut reader, "DATA\r\n");
    command(&mut writer, &mut reader, &format!("{message}\r\n.\r\n"));
    command(&mut writer, &mut reader, "QUIT\r\n");
    replies
}

#[test]
fn the_smtp_server_records_envelope_headers_and_the_decoded_body() {
    let smtp = SmtpServer::start();
    assert!(smtp.messages().is_empty());
    let link = format!(
        "http://127.0.0.1:3000/api/bundle_permission_request/{}/",
        "A".repeat(43)
    );
    let body = format!("Hello Zoë,\r\n\r\n{link}\r\n\r\nBye\r\n");
    let encoded =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, body.as_bytes());
    let message = format!(
        "From: tessera@localhost\r\nTo: zoe@test.com\r\nSubject: =?utf-8?q?Zo=C3=AB?= asks\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{encoded}"
    );
    let replies = send(smtp.port, "tessera@localhost", &["zoe@test.com"], &message);
    assert!(
        replies
            .iter()
            .any(|r| r.starts_with("250 Message accepted")),
        "{replies:?}"
    );
    let got = smtp.wait_for(1);
    assert_eq!(got.len(), 1);
    let mail = &got[0];
    assert_eq!(mail.mail_from, "tessera@localhost");
    assert_eq!(mail.rcpt_tos, ["zoe@test.com"]);
    assert_eq!(mail.header("subject"), Some("Zoë asks"));
    assert_eq!(mail.header("TO"), Some("zoe@test.com"));
    assert_eq!(mail.content_type, "text/plain");
    assert_eq!(mail.charset.as_deref(), Some("utf-8"));
    assert!(!mail.multipart);
    assert!(mail.raw.contains("Content-Transfer-Encoding: base64"));
    assert!(
        !mail.raw.contains(&link),
        "the raw message is still encoded"
    );
    assert_eq!(mail.lines(), ["Hello Zoë,", "", link.as_str(), "", "Bye"]);
}

#[test]
fn a_stopped_smtp_server_refuses_connections_and_one_restarted_on_its_port_receives() {
    let smtp = SmtpServer::start();
    let port = smtp.port;
    smtp.stop();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    let again = SmtpServer::start_on(port);
    send(
        port,
        "a@test.com",
        &["b@test.com", "c@test.com"],
        "Subject: two\r\n\r\nhi",
    );
    let got = again.wait_for(1);
    assert_eq!(got[0].rcpt_tos, ["b@test.com", "c@test.com"]);
    assert_eq!(got[0].lines(), ["hi"]);
}
