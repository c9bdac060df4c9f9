//! Reading a `mysqldump` file: a streaming statement splitter, and `sqlparser` (MySQL
//! dialect) for the statements the import needs.
//!
//! The splitter reads one line at a time and keeps only the statement being built, so
//! memory is bounded by the longest statement (mysqldump's extended INSERTs stay near its
//! `net_buffer_length`, 1 MB by default), never by the file. It knows just enough MySQL to
//! find where a statement ends: quoted strings and identifiers (with backslash escapes and
//! doubled quotes), `-- ` and `#` line comments, and `/* */` comments, which include the
//! `/*!40101 ... */` and `/*M!999999 ... */` directives. Comments and directives are
//! dropped: nothing in them is data. Newlines are kept, so a position in a statement maps
//! back to its line in the file.
//!
//! `CREATE TABLE` and `INSERT` statements are then parsed by `sqlparser`; every other
//! statement (`DROP`, `LOCK`, `UNLOCK`, `SET`, ...) is recognised by its first words and
//! passed over.

use std::io::BufRead;

use sqlparser::ast::{self, Expr, SetExpr, Statement, UnaryOperator};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

/// The longest statement (and line) read: a dump with a longer one is refused rather than
/// read into memory whole.
pub const MAX_STATEMENT_BYTES: usize = 64 * 1024 * 1024;

/// What is wrong with a dump, at a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct DumpError {
    pub line: u64,
    pub problem: String,
}

impl DumpError {
    pub(crate) fn new(line: u64, problem: impl Into<String>) -> Self {
        DumpError {
            line,
            problem: problem.into(),
        }
    }
}

/// Reading the dump failed: the file, or its content.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Dump(#[from] DumpError),
}

/// One statement of the dump, without its comments and its `;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStatement {
    /// The line of its first character.
    pub line: u64,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    /// Inside a string or quoted identifier opened by this byte, on this line.
    Quoted(u8, u64),
    /// Inside a `/* */` comment opened on this line.
    Comment(u64),
}

/// Splits a dump into statements, streaming.
pub struct Statements<R> {
    reader: R,
    /// The line being read (1-based) and its bytes.
    line_no: u64,
    line: Vec<u8>,
    state: State,
    current: Vec<u8>,
    current_line: u64,
    ready: std::collections::VecDeque<(u64, Vec<u8>)>,
    bytes_read: u64,
    finished: bool,
}

impl<R: BufRead> Statements<R> {
    pub fn new(reader: R) -> Self {
        Statements {
            reader,
            line_no: 0,
            line: Vec::new(),
            state: State::Code,
            current: Vec::new(),
            current_line: 0,
            ready: Default::default(),
            bytes_read: 0,
            finished: false,
        }
    }

    /// Bytes of the file read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next statement, `None` at the end of the dump.
    pub fn next_statement(&mut self) -> Result<Option<RawStatement>, ReadError> {
        loop {
            if let Some((line, bytes)) = self.ready.pop_front() {
                return Ok(Some(RawStatement {
                    line,
                    text: to_text(line, bytes)?,
                }));
            }
            if self.finished {
                return Ok(None);
            }
            self.read_line()?;
        }
    }

    fn read_line(&mut self) -> Result<(), ReadError> {
        self.line.clear();
        let limit = MAX_STATEMENT_BYTES as u64 + 1;
        let n = std::io::Read::take(&mut self.reader, limit).read_until(b'\n', &mut self.line)?;
        self.bytes_read += n as u64;
        if n == 0 {
            self.finished = true;
            return self.finish();
        }
        self.line_no += 1;
        if n as u64 == limit && self.line.last() != Some(&b'\n') {
            return Err(DumpError::new(
                self.line_no,
                format!(
                    "a line longer than {} MiB",
                    MAX_STATEMENT_BYTES / (1024 * 1024)
                ),
            )
            .into());
        }
        self.scan_line();
        if self.current.len() > MAX_STATEMENT_BYTES {
            return Err(DumpError::new(
                self.current_line,
                format!(
                    "a statement longer than {} MiB",
                    MAX_STATEMENT_BYTES / (1024 * 1024)
                ),
            )
            .into());
        }
        Ok(())
    }

    fn push(&mut self, byte: u8) {
        if self.current.is_empty() {
            if byte.is_ascii_whitespace() {
                return;
            }
            self.current_line = self.line_no;
        }
        self.current.push(byte);
    }

    fn scan_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let at = |i: usize| line.get(i).copied();
        let mut i = 0;
        while i < line.len() {
            let b = line[i];
            match self.state {
                State::Code => match b {
                    b'\'' | b'"' | b'`' => {
                        self.state = State::Quoted(b, self.line_no);
                        self.push(b);
                    }
                    b'#' => {
                        self.push(b'\n');
                        break;
                    }
                    b'-' if at(i + 1) == Some(b'-')
                        && !matches!(at(i + 2), Some(c) if !c.is_ascii_whitespace()) =>
                    {
                        self.push(b'\n');
                        break;
                    }
                    b'/' if at(i + 1) == Some(b'*') => {
                        self.state = State::Comment(self.line_no);
                        self.push(b' ');
                        i += 1;
                    }
                    b';' => {
                        // A statement that was all comments (a directive) is no statement.
                        let text = std::mem::take(&mut self.current);
                        if !text.is_empty() {
                            self.ready.push_back((self.current_line, text));
                        }
                    }
                    _ => self.push(b),
                },
                State::Quoted(quote, _) => {
                    self.push(b);
                    if b == b'\\' && quote != b'`' {
                        if let Some(next) = at(i + 1) {
                            self.push(next);
                            i += 1;
                        }
                    } else if b == quote {
                        self.state = State::Code;
                    }
                }
                State::Comment(_) => {
                    if b == b'*' && at(i + 1) == Some(b'/') {
                        self.state = State::Code;
                        i += 1;
                    } else if b == b'\n' {
                        self.push(b'\n');
                    }
                }
            }
            i += 1;
        }
        self.line = line;
    }

    fn finish(&mut self) -> Result<(), ReadError> {
        match self.state {
            State::Quoted(b'`', line) => Err(DumpError::new(
                line,
                "the dump ends inside a quoted name that starts here",
            )
            .into()),
            State::Quoted(_, line) => {
                Err(DumpError::new(line, "the dump ends inside a string that starts here").into())
            }
            State::Comment(line) => {
                Err(DumpError::new(line, "the dump ends inside a comment that starts here").into())
            }
            State::Code if self.current.iter().any(|b| !b.is_ascii_whitespace()) => {
                Err(DumpError::new(
                    self.current_line,
                    "the dump ends inside a statement (is it truncated?)",
                )
                .into())
            }
            State::Code => Ok(()),
        }
    }
}

fn to_text(line: u64, bytes: Vec<u8>) -> Result<String, DumpError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let newlines = bytes[..valid].iter().filter(|&&b| b == b'\n').count() as u64;
        DumpError::new(
            line + newlines,
            "the dump is not UTF-8 (dump with --default-character-set=utf8mb4)",
        )
    })
}

/// A value of a dumped row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Null,
    Text(String),
    /// A number as written (`1`, `-3`, `2.5`).
    Number(String),
}

/// What a statement is, as far as the import cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    CreateTable(String),
    Insert(String),
    Other,
}

/// Classifies a statement by its first words, without parsing it.
pub fn kind(text: &str) -> Kind {
    let mut words = text
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty());
    let first = words.next().unwrap_or_default();
    let word_is = |w: Option<&str>, k: &str| w.is_some_and(|w| w.eq_ignore_ascii_case(k));
    let name = |w: Option<&str>| {
        // `db`.`table` names the table after the last dot.
        w.and_then(|w| w.rsplit('.').next())
            .map(|w| w.trim_matches('`').to_owned())
            .unwrap_or_default()
    };
    if first.eq_ignore_ascii_case("CREATE") {
        let second = words.next();
        if word_is(second, "TABLE") {
            let mut third = words.next();
            if word_is(third, "IF") {
                words.next(); // NOT
                words.next(); // EXISTS
                third = words.next();
            }
            return Kind::CreateTable(name(third));
        }
        return Kind::Other;
    }
    if first.eq_ignore_ascii_case("INSERT") || first.eq_ignore_ascii_case("REPLACE") {
        let mut next = words.next();
        while word_is(next, "IGNORE")
            || word_is(next, "LOW_PRIORITY")
            || word_is(next, "DELAYED")
            || word_is(next, "HIGH_PRIORITY")
        {
            next = words.next();
        }
        if word_is(next, "INTO") {
            next = words.next();
        }
        return Kind::Insert(name(next));
    }
    Kind::Other
}

fn parse_one(statement: &RawStatement) -> Result<Statement, DumpError> {
    let mut parsed = Parser::parse_sql(&MySqlDialect {}, &statement.text).map_err(|e| {
        DumpError::new(
            statement.line,
            format!("cannot parse the statement: {}", shorten(&e.to_string())),
        )
    })?;
    if parsed.len() != 1 {
        return Err(DumpError::new(
            statement.line,
            "cannot parse the statement: expected one statement",
        ));
    }
    Ok(parsed.remove(0))
}

fn shorten(text: &str) -> String {
    // sqlparser's messages quote the token it stopped at; keep the line readable.
    let mut out: String = text.chars().take(200).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out.replace('\n', " ")
}

/// The column names of a `CREATE TABLE`, in order.
pub fn table_columns(statement: &RawStatement) -> Result<Vec<String>, DumpError> {
    match parse_one(statement)? {
        Statement::CreateTable(create) => {
            Ok(create.columns.into_iter().map(|c| c.name.value).collect())
        }
        _ => Err(DumpError::new(statement.line, "expected CREATE TABLE")),
    }
}

/// The rows of an `INSERT ... VALUES`: its column list (if it has one), and each row with
/// the line it starts on.
pub struct Rows {
    pub columns: Option<Vec<String>>,
    pub rows: Vec<(u64, Vec<SqlValue>)>,
}

pub fn insert_rows(statement: &RawStatement) -> Result<Rows, DumpError> {
    let insert = match parse_one(statement)? {
        Statement::Insert(insert) => insert,
        _ => return Err(DumpError::new(statement.line, "expected INSERT")),
    };
    let columns = if insert.columns.is_empty() {
        None
    } else {
        Some(insert.columns.into_iter().map(|c| c.value).collect())
    };
    let body = insert.source.map(|q| *q.body);
    let Some(SetExpr::Values(values)) = body else {
        return Err(DumpError::new(
            statement.line,
            "only INSERT ... VALUES is supported",
        ));
    };
    let mut rows = Vec::with_capacity(values.rows.len());
    for row in values.rows {
        let line = row
            .first()
            .map(|e| statement.line + expr_line(e).saturating_sub(1))
            .unwrap_or(statement.line);
        let mut out = Vec::with_capacity(row.len());
        for expr in row {
            out.push(value(expr).map_err(|what| DumpError::new(line, what))?);
        }
        rows.push((line, out));
    }
    Ok(Rows { columns, rows })
}

fn expr_line(expr: &Expr) -> u64 {
    match expr {
        Expr::Value(v) => v.span.start.line,
        Expr::UnaryOp { expr, .. } => expr_line(expr),
        _ => 1,
    }
}

fn value(expr: Expr) -> Result<SqlValue, String> {
    match expr {
        Expr::Value(v) => literal(v.value),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match value(*expr)? {
            SqlValue::Number(n) => Ok(SqlValue::Number(format!("-{n}"))),
            _ => Err("a minus sign before a value that is not a number".to_owned()),
        },
        // `_binary '...'`, `_utf8mb4 '...'`: a character-set introducer before a string.
        Expr::Prefixed { value, .. } => self::value(*value),
        other => Err(format!("unsupported value {}", shorten(&other.to_string()))),
    }
}

fn literal(value: ast::Value) -> Result<SqlValue, String> {
    use ast::Value as V;
    match value {
        V::Null => Ok(SqlValue::Null),
        V::Number(n, _) => Ok(SqlValue::Number(n)),
        V::Boolean(b) => Ok(SqlValue::Number(if b { "1" } else { "0" }.to_owned())),
        V::SingleQuotedString(s) | V::DoubleQuotedString(s) => Ok(SqlValue::Text(s)),
        V::HexStringLiteral(hex) => {
            let bytes = hex::decode(&hex).map_err(|_| format!("bad hex literal {hex}"))?;
            String::from_utf8(bytes)
                .map(SqlValue::Text)
                .map_err(|_| "a hex literal that is not UTF-8 text".to_owned())
        }
        other => Err(format!("unsupported value {}", shorten(&other.to_string()))),
    }
}

#[cfg(test)]
mod tests;
