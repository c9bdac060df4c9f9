use super::*;

fn statements(text: &[u8]) -> Result<Vec<RawStatement>, ReadError> {
    let mut reader = Statements::new(text);
    let mut out = Vec::new();
    while let Some(s) = reader.next_statement()? {
        out.push(s);
    }
    Ok(out)
}

fn dump_error(text: &[u8]) -> DumpError {
    match statements(text) {
        Err(ReadError::Dump(e)) => e,
        other => panic!("expected a dump error, got {other:?}"),
    }
}

fn raw(line: u64, text: &str) -> RawStatement {
    RawStatement {
        line,
        text: text.to_owned(),
    }
}

#[test]
fn splits_statements_and_drops_comments_and_directives() {
    let text = b"/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump\n--\n\
# hash comment\n/*!40101 SET NAMES utf8mb4 */;\nLOCK TABLES `user` WRITE;\n\
INSERT INTO `user` VALUES\n('a;b','c -- d'),\n('e /* f */','g#h');\nUNLOCK TABLES;\n";
    let got = statements(text).unwrap();
    let texts: Vec<(u64, &str)> = got.iter().map(|s| (s.line, s.text.as_str())).collect();
    assert_eq!(
        texts,
        [
            (6, "LOCK TABLES `user` WRITE"),
            (
                7,
                "INSERT INTO `user` VALUES\n('a;b','c -- d'),\n('e /* f */','g#h')"
            ),
            (10, "UNLOCK TABLES"),
        ]
    );
}

#[test]
fn escaped_quotes_do_not_end_a_string() {
    let text = b"INSERT INTO t VALUES ('it\\'s; \\\\', 'say ''hi''; ok', 'q\\\"; ');\n";
    let got = statements(text).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    let rows = insert_rows(&got[0]).unwrap();
    assert_eq!(
        rows.rows[0].1,
        [
            SqlValue::Text("it's; \\".to_owned()),
            SqlValue::Text("say 'hi'; ok".to_owned()),
            SqlValue::Text("q\"; ".to_owned()),
        ]
    );
}

#[test]
fn mysql_escapes_null_and_numbers_decode() {
    let s = raw(
        4,
        "INSERT INTO `t` (`a`,`b`,`c`,`d`,`e`) VALUES ('l1\\nl2\\r\\t\\0\\Z\\\\x', NULL, 12, -3, 'ü');",
    );
    let rows = insert_rows(&s).unwrap();
    assert_eq!(
        rows.columns,
        Some(["a", "b", "c", "d", "e"].map(String::from).to_vec())
    );
    assert_eq!(
        rows.rows,
        [(
            4,
            vec![
                SqlValue::Text("l1\nl2\r\t\0\u{1a}\\x".to_owned()),
                SqlValue::Null,
                SqlValue::Number("12".to_owned()),
                SqlValue::Number("-3".to_owned()),
                SqlValue::Text("ü".to_owned()),
            ]
        )]
    );
}

#[test]
fn rows_know_their_lines() {
    let text = b"\n\nINSERT INTO `t` VALUES\n(1,'a'),\n(2,'b\nc'),\n(3,'d');\n";
    let got = statements(text).unwrap();
    assert_eq!(got[0].line, 3);
    let rows = insert_rows(&got[0]).unwrap();
    let lines: Vec<u64> = rows.rows.iter().map(|r| r.0).collect();
    assert_eq!(lines, [4, 5, 7]);
}

#[test]
fn create_table_gives_the_column_order() {
    let text = "CREATE TABLE `oauth_client` (\n  `id` varchar(36) NOT NULL,\n  \
`secret` char(36) CHARACTER SET latin1 COLLATE latin1_bin DEFAULT NULL,\n  \
`extra` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`extra`)),\n  \
PRIMARY KEY (`id`),\n  UNIQUE KEY `id` (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci";
    assert_eq!(kind(text), Kind::CreateTable("oauth_client".to_owned()));
    assert_eq!(
        table_columns(&raw(1, text)).unwrap(),
        ["id", "secret", "extra"]
    );
}

#[test]
fn statements_are_classified_by_their_first_words() {
    assert_eq!(
        kind("INSERT INTO `user` VALUES (1)"),
        Kind::Insert("user".into())
    );
    assert_eq!(
        kind("insert ignore into user(id) values (1)"),
        Kind::Insert("user".into())
    );
    assert_eq!(
        kind("REPLACE INTO `db`.`role` VALUES (1)"),
        Kind::Insert("role".into())
    );
    assert_eq!(
        kind("CREATE TABLE IF NOT EXISTS `iot` (`id` int)"),
        Kind::CreateTable("iot".into())
    );
    assert_eq!(kind("DROP TABLE IF EXISTS `user`"), Kind::Other);
    assert_eq!(kind("UNLOCK TABLES"), Kind::Other);
    assert_eq!(kind("SET @a = 1"), Kind::Other);
}

#[test]
fn a_truncated_dump_names_the_statement_line() {
    let e = dump_error(b"DROP TABLE x;\nINSERT INTO `t` VALUES\n(1,'a'),\n(2,'b')");
    assert_eq!(e.line, 2);
    assert!(e.problem.contains("ends inside a statement"), "{e}");
}

#[test]
fn an_unterminated_string_names_its_line() {
    let e = dump_error(b"INSERT INTO `t` VALUES\n(1,'a'),\n(2,'b);\n(3);\n");
    assert_eq!(e.line, 3);
    assert!(e.problem.contains("inside a string"), "{e}");
    let e = dump_error(b"SELECT 1;\n/* never closed\n");
    assert_eq!(e.line, 2);
    assert!(e.problem.contains("inside a comment"), "{e}");
}

#[test]
fn a_non_utf8_byte_names_its_line() {
    let e = dump_error(b"INSERT INTO `t` VALUES\n(1,'a'),\n(2,'b\xe9');\n");
    assert_eq!(e.line, 3);
    assert!(e.problem.contains("not UTF-8"), "{e}");
}

#[test]
fn a_parse_error_names_the_statement() {
    let e = insert_rows(&raw(9, "INSERT INTO `t` VALUES (1,,2)"))
        .err()
        .unwrap();
    assert_eq!(e.line, 9);
    assert!(e.problem.starts_with("cannot parse the statement"), "{e}");
}

#[test]
fn expressions_are_not_values() {
    let e = insert_rows(&raw(1, "INSERT INTO `t` VALUES (NOW())"))
        .err()
        .unwrap();
    assert!(e.problem.contains("unsupported value"), "{e}");
}

#[test]
fn hex_literals_are_text() {
    let rows = insert_rows(&raw(1, "INSERT INTO `t` VALUES (0x616263, X'6465')")).unwrap();
    assert_eq!(
        rows.rows[0].1,
        [SqlValue::Text("abc".into()), SqlValue::Text("de".into())]
    );
}

#[test]
fn an_overlong_line_is_refused_without_reading_it_whole() {
    let long = vec![b'x'; MAX_STATEMENT_BYTES + 10];
    let e = dump_error(&long);
    assert_eq!(e.line, 1);
    assert!(e.problem.contains("longer than"), "{e}");
}

#[test]
fn the_fixture_splits_into_statements() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/keyrock-test-fixture.sql"
    );
    let file = std::fs::File::open(path).unwrap();
    let mut reader = Statements::new(std::io::BufReader::new(file));
    let mut inserts = 0;
    let mut tables = 0;
    while let Some(s) = reader.next_statement().unwrap() {
        match kind(&s.text) {
            Kind::CreateTable(_) => {
                tables += 1;
                table_columns(&s).unwrap();
            }
            Kind::Insert(_) => {
                inserts += 1;
                insert_rows(&s).unwrap();
            }
            Kind::Other => {}
        }
    }
    assert_eq!((tables, inserts), (25, 16));
}

/// A small deterministic fuzz: random dumps made of the bytes that matter to the splitter
/// and the parser never panic, and every error names a line of the input.
#[test]
fn random_dumps_never_panic_and_errors_name_a_line_of_the_input() {
    const PIECES: [&[u8]; 24] = [
        b"'",
        b"\"",
        b"`",
        b"\\",
        b";",
        b"-- ",
        b"--",
        b"#",
        b"/*",
        b"*/",
        b"/*!40101 ",
        b"\n",
        b"(",
        b")",
        b",",
        b"NULL",
        b"12",
        b"-",
        b"INSERT INTO `user` VALUES ",
        b"CREATE TABLE `t` (`a` int)",
        b"x",
        b"\xe9",
        b"''",
        b" ",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5000 {
        let len = (next() % 40) as usize;
        let mut input = Vec::new();
        for _ in 0..len {
            input.extend_from_slice(PIECES[(next() % PIECES.len() as u64) as usize]);
        }
        let lines = input.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let mut reader = Statements::new(input.as_slice());
        loop {
            match reader.next_statement() {
                Ok(Some(s)) => {
                    assert!((1..=lines).contains(&s.line));
                    let parsed = match kind(&s.text) {
                        Kind::CreateTable(_) => table_columns(&s).map(|_| ()),
                        Kind::Insert(_) => insert_rows(&s).map(|_| ()),
                        Kind::Other => Ok(()),
                    };
                    if let Err(e) = parsed {
                        assert!((1..=lines).contains(&e.line), "{e} in {input:?}");
                    }
                }
                Ok(None) => break,
                Err(ReadError::Dump(e)) => {
                    assert!((1..=lines).contains(&e.line), "{e} in {input:?}");
                    break;
                }
                Err(ReadError::Io(e)) => panic!("{e}"),
            }
        }
    }
}
