//! The values of a dumped row, by column name.

use std::collections::{BTreeMap, HashMap};

use time::macros::format_description;
use time::PrimitiveDateTime;

use super::dump::{DumpError, Rows, SqlValue};
use super::Table;

/// The columns of one `INSERT`: its own column list, or its table's `CREATE TABLE`.
pub(crate) struct Columns {
    table: &'static str,
    count: usize,
    index: HashMap<String, usize>,
}

/// The columns without which a table's rows mean nothing; any other column may be missing
/// (dumps of other Keyrock versions), and reads as NULL.
fn required(table: Table) -> &'static [&'static str] {
    match table {
        Table::User => &["id", "email"],
        Table::OauthClient | Table::Organization => &["id"],
        Table::Role | Table::Permission => &["id", "oauth_client_id"],
        Table::RolePermission => &["role_id", "permission_id"],
        Table::RoleAssignment => &["oauth_client_id", "role_id"],
        Table::UserOrganization => &["user_id", "organization_id", "role"],
        Table::TrustedApplication => &["oauth_client_id", "trusted_oauth_client_id"],
        Table::UserAuthorizedApplication => &["user_id", "oauth_client_id"],
        Table::PepProxy | Table::Iot => &["id", "password", "oauth_client_id"],
        Table::AccessToken => &["oauth_client_id"],
        Table::RefreshToken => &["refresh_token", "oauth_client_id", "expires"],
        Table::AuthorizationCode => &[
            "authorization_code",
            "oauth_client_id",
            "user_id",
            "expires",
        ],
    }
}

impl Columns {
    pub(crate) fn for_insert(
        table: Table,
        name: &str,
        created: &BTreeMap<String, Vec<String>>,
        rows: &Rows,
        line: u64,
    ) -> Result<Columns, DumpError> {
        let names = match (&rows.columns, created.get(name)) {
            (Some(list), _) => list,
            (None, Some(list)) => list,
            (None, None) => {
                return Err(DumpError::new(
                    line,
                    format!("an INSERT into {name} without a column list, and no CREATE TABLE {name} before it"),
                ))
            }
        };
        let index: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_ascii_lowercase(), i))
            .collect();
        for column in required(table) {
            if !index.contains_key(*column) {
                return Err(DumpError::new(
                    line,
                    format!("table {name} has no column {column}"),
                ));
            }
        }
        let columns = Columns {
            table: table.name(),
            count: names.len(),
            index,
        };
        for (row_line, values) in &rows.rows {
            // Nothing stored holds NUL (PostgreSQL text cannot): refused on both backends
            // alike, naming where, rather than altered.
            if let Some(i) = values
                .iter()
                .position(|v| matches!(v, SqlValue::Text(t) if t.contains('\0')))
            {
                return Err(DumpError::new(
                    *row_line,
                    format!(
                        "{name}.{} holds a NUL character (\\0), which Tessera does not store",
                        names.get(i).map(String::as_str).unwrap_or("?")
                    ),
                ));
            }
            if values.len() != columns.count {
                return Err(DumpError::new(
                    *row_line,
                    format!(
                        "a row of {} has {} values but the table has {} columns",
                        columns.table,
                        values.len(),
                        columns.count
                    ),
                ));
            }
        }
        Ok(columns)
    }

    pub(crate) fn row<'a>(&'a self, line: u64, values: &'a [SqlValue]) -> Row<'a> {
        Row {
            line,
            values,
            columns: self,
        }
    }
}

/// One dumped row.
pub(crate) struct Row<'a> {
    line: u64,
    values: &'a [SqlValue],
    columns: &'a Columns,
}

impl<'a> Row<'a> {
    /// The value of `column` as text; `None` for NULL or a column the dump does not have.
    pub(crate) fn text(&self, column: &str) -> Option<&'a str> {
        let i = *self.columns.index.get(column)?;
        match self.values.get(i)? {
            SqlValue::Null => None,
            SqlValue::Text(s) | SqlValue::Number(s) => Some(s.as_str()),
        }
    }

    pub(crate) fn owned(&self, column: &str) -> Option<String> {
        self.text(column).map(str::to_owned)
    }

    /// A `tinyint(1)`: 0 is false, any other number true.
    pub(crate) fn flag(&self, column: &str) -> Result<Option<bool>, DumpError> {
        match self.text(column) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(n) => Ok(Some(n != 0.0)),
                Err(_) => Err(self.bad(column, v, "a number")),
            },
        }
    }

    /// A `datetime` (`YYYY-MM-DD HH:MM:SS`, UTC, fractions allowed); MySQL's zero date
    /// reads as NULL.
    pub(crate) fn time(&self, column: &str) -> Result<Option<PrimitiveDateTime>, DumpError> {
        let Some(v) = self.text(column) else {
            return Ok(None);
        };
        if v.starts_with("0000-00-00") {
            return Ok(None);
        }
        let whole = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        let fraction =
            format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]");
        PrimitiveDateTime::parse(v, whole)
            .or_else(|_| PrimitiveDateTime::parse(v, fraction))
            .map(Some)
            .map_err(|_| self.bad(column, v, "a datetime YYYY-MM-DD HH:MM:SS"))
    }

    fn bad(&self, column: &str, value: &str, expected: &str) -> DumpError {
        let shown: String = value.chars().take(40).collect();
        DumpError::new(
            self.line,
            format!(
                "{}.{column} holds {shown:?}, expected {expected}",
                self.columns.table
            ),
        )
    }
}
