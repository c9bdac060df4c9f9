//! Field rules shared by the Keyrock resources.

use validator::ValidateEmail;

/// Keyrock's limit on usernames (Tessera decision 23).
pub const MAX_USERNAME_CHARS: usize = 64;

/// `local@domain`, no spaces, and a domain with at least one dot or `localhost`.
pub fn is_valid_email(email: &str) -> bool {
    if email.chars().any(char::is_whitespace) || !email.validate_email() {
        return false;
    }
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && (domain.eq_ignore_ascii_case("localhost")
                    || (domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rule() {
        for ok in [
            "a@b.co",
            "admin@localhost",
            "First.Last+tag@sub.example.org",
        ] {
            assert!(is_valid_email(ok), "{ok}");
        }
        for bad in [
            "", "plain", "@b.co", "a@", "a b@c.de", "a@nodot", "a@.com", "a@@b.com",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }
}
