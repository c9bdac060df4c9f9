//! How a command carries what the client sent.
//!
//! Keyrock's rules tell apart a member that is missing, one that is `null`, one of the
//! expected type and one of another type (keyrock.md 4.2-4.6: "Missing parameter ... or
//! empty", "Cannot set empty ...", "... must be a boolean"). The family module decodes the
//! wire into commands whose fields are [`Given`]; the rules about values, and the order in
//! which they are checked, stay here.

/// One member of a request, as given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Given<T> {
    /// Not sent.
    #[default]
    Absent,
    /// Sent as an explicit null.
    Null,
    /// Sent with the expected type.
    Value(T),
    /// Sent with another type (a number where text belongs, an object where a list does).
    Unusable,
}

impl<T> Given<T> {
    /// The value, if sent with the expected type.
    pub fn value(&self) -> Option<&T> {
        match self {
            Given::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn into_value(self) -> Option<T> {
        match self {
            Given::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Sent at all (null and unusable included): Keyrock's "key present in the body".
    pub fn is_sent(&self) -> bool {
        !matches!(self, Given::Absent)
    }

    /// Sent and not null.
    pub fn is_present(&self) -> bool {
        matches!(self, Given::Value(_) | Given::Unusable)
    }
}

impl<T> From<T> for Given<T> {
    fn from(value: T) -> Self {
        Given::Value(value)
    }
}

impl Given<String> {
    /// A non-empty text value.
    pub fn non_empty(&self) -> Option<&str> {
        self.value().map(String::as_str).filter(|s| !s.is_empty())
    }

    /// Sent as the empty string: what "Cannot set empty ..." refuses.
    pub fn is_empty_text(&self) -> bool {
        self.value().is_some_and(|s| s.is_empty())
    }

    /// A text value, owned.
    pub fn text(&self) -> Option<String> {
        self.value().cloned()
    }
}

/// The outcome of an update: the object after it, and the names of the fields whose stored
/// value changed (Keyrock's `values_updated` is derived from them in one place).
#[derive(Debug, Clone)]
pub struct Updated<T> {
    pub after: T,
    pub changed: Vec<&'static str>,
}

impl<T> Updated<T> {
    pub fn anything_changed(&self) -> bool {
        !self.changed.is_empty()
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Updated<U> {
        Updated {
            after: f(self.after),
            changed: self.changed,
        }
    }
}
