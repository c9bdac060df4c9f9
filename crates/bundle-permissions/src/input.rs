//! How a command's field arrived: absent, null, a value of the right type, or something the
//! edge could not turn into one (its message is reported with the domain's own field
//! errors, so all the problems of one body are reported together, §1.7).

/// One field of a command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Value(T),
    /// The edge's message for a value of the wrong JSON type or shape.
    Invalid(String),
}

impl<T> Field<T> {
    /// A field that may be absent or null: `Ok(None)` then, `Err(message)` for `Invalid`.
    pub(crate) fn optional(self) -> Result<Option<T>, String> {
        match self {
            Field::Absent | Field::Null => Ok(None),
            Field::Value(v) => Ok(Some(v)),
            Field::Invalid(m) => Err(m),
        }
    }
}
