//! GS1 GTIN checks: length, check digit and the prefixes Google rejects.
//!
//! Google disapproves an item whose GTIN is malformed or comes from a range GS1 never hands to
//! brand owners (in-store numbers, coupons). Catching that at build time names the product
//! file to fix, instead of a disapproval in Merchant Center days later. The rules (GS1's mod-10
//! check digit, Google's restricted and coupon prefixes) and their sources are listed in
//! `docs/src/channels/gtin.md`.

use std::fmt;

/// Why a GTIN is not one Google accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtinProblem {
    /// Empty, or something other than digits, spaces and dashes.
    NotDigits,
    /// The number of digits, which is not 8, 12, 13 or 14.
    BadLength(usize),
    BadCheckDigit {
        expected: u8,
        found: u8,
    },
    /// A prefix for numbers that only mean something inside one shop, company or region, as
    /// it appears in the GTIN-13 form (`02`, `04`, `2`; `0` or `2` for a GTIN-8). An all-zero
    /// GTIN, the usual stand-in for "no GTIN", passes the check digit arithmetic; it is reported
    /// here with the whole code as its prefix, since no GS1 member owns it either.
    RestrictedPrefix(String),
    /// A coupon prefix, as it appears in the GTIN-13 form: `05`, `981` to `984`, `99`.
    CouponPrefix(String),
}

impl fmt::Display for GtinProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDigits => f.write_str("a GTIN holds only digits (and spaces or dashes)"),
            Self::BadLength(n) => write!(f, "GTIN has {n} digits; a GTIN has 8, 12, 13 or 14"),
            Self::BadCheckDigit { expected, found } => {
                write!(f, "check digit is {found}, it should be {expected}")
            }
            Self::RestrictedPrefix(p) if p.len() > 3 => {
                write!(f, "{p} is a placeholder, not a GTIN, which channels reject")
            }
            Self::RestrictedPrefix(p) if p == "0" => write!(
                f,
                "prefix 0 is for company-internal GTIN-8s, which channels reject \
                 (a UPC-E must be expanded to its 12-digit UPC-A)"
            ),
            Self::RestrictedPrefix(p) if p == "04" => {
                write!(
                    f,
                    "prefix 04 is for company-internal numbers, which channels reject"
                )
            }
            Self::RestrictedPrefix(p) => {
                write!(
                    f,
                    "prefix {p} is for in-store numbers, which channels reject"
                )
            }
            Self::CouponPrefix(p) => write!(f, "prefix {p} is for coupons, which channels reject"),
        }
    }
}

impl std::error::Error for GtinProblem {}

/// Drops the spaces and dashes people and spreadsheets put into GTINs for readability.
pub fn normalize(raw: &str) -> String {
    raw.replace([' ', '-'], "")
}

/// The GS1 check digit of `body`, the GTIN without its check digit: weights 3, 1, 3, … from
/// the right, so leading zeros do not matter and one routine covers GTIN-8 to GTIN-14.
/// `body` must be ASCII digits.
pub fn check_digit(body: &str) -> u8 {
    debug_assert!(body.bytes().all(|b| b.is_ascii_digit()), "{body:?}");
    let sum: u32 = body
        .bytes()
        .rev()
        .zip([3, 1].into_iter().cycle())
        .map(|(b, weight)| u32::from(b.wrapping_sub(b'0')) * weight)
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Checks a GTIN as Google would and returns it normalised (spaces and dashes dropped, never
/// padded: channels want the GTIN as printed on the pack).
pub fn validate(raw: &str) -> Result<String, GtinProblem> {
    let gtin = normalize(raw);
    let digits = gtin.as_bytes();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(GtinProblem::NotDigits);
    }
    if !matches!(digits.len(), 8 | 12 | 13 | 14) {
        return Err(GtinProblem::BadLength(digits.len()));
    }
    let (body, last) = gtin.split_at(gtin.len() - 1);
    let (expected, found) = (check_digit(body), last.as_bytes()[0] - b'0');
    if expected != found {
        return Err(GtinProblem::BadCheckDigit { expected, found });
    }
    match prefix_problem(digits) {
        Some(problem) => Err(problem),
        None => Ok(gtin),
    }
}

/// Applies Google's prefix rules to the GTIN-13 form, so that a UPC-A starting with 2 (an
/// in-store number) is caught as `02`: GTIN-12 gets a leading 0, GTIN-14 loses its packaging
/// indicator digit. GTIN-8 has ranges of its own.
fn prefix_problem(digits: &[u8]) -> Option<GtinProblem> {
    let prefix = |p: &[u8]| p.iter().copied().map(char::from).collect::<String>();
    if digits.iter().all(|&d| d == b'0') {
        return Some(GtinProblem::RestrictedPrefix(prefix(digits)));
    }
    let p = match *digits {
        [d @ (b'0' | b'2'), ..] if digits.len() == 8 => {
            return Some(GtinProblem::RestrictedPrefix(prefix(&[d])));
        }
        [a, b, ..] if digits.len() == 12 => [b'0', a, b],
        [a, b, c, ..] if digits.len() == 13 => [a, b, c],
        [_, a, b, c, ..] if digits.len() == 14 => [a, b, c],
        _ => return None,
    };
    match p {
        [b'0', b'2' | b'4', _] => Some(GtinProblem::RestrictedPrefix(prefix(&p[..2]))),
        [b'2', ..] => Some(GtinProblem::RestrictedPrefix(prefix(&p[..1]))),
        [b'0', b'5', _] | [b'9', b'9', _] => Some(GtinProblem::CouponPrefix(prefix(&p[..2]))),
        [b'9', b'8', b'1'..=b'4'] => Some(GtinProblem::CouponPrefix(prefix(&p))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use GtinProblem::*;

    fn restricted(p: &str) -> Result<String, GtinProblem> {
        Err(RestrictedPrefix(p.into()))
    }

    fn coupon(p: &str) -> Result<String, GtinProblem> {
        Err(CouponPrefix(p.into()))
    }

    #[test]
    fn check_digits() {
        assert_eq!(check_digit("629104150021"), 3);
        assert_eq!(check_digit("400638133393"), 1);
        assert_eq!(check_digit("1234123"), 8);
        assert_eq!(check_digit("01200000789"), 7);
        assert_eq!(check_digit("1061414100041"), 5);
        // Leading zeros change nothing.
        assert_eq!(check_digit("0001234123"), 8);
        assert_eq!(check_digit(""), 0);
    }

    #[test]
    fn valid() {
        for gtin in [
            "4006381333931",  // GTIN-13
            "12341238",       // GTIN-8
            "012000007897",   // GTIN-12 (UPC-A)
            "10614141000415", // GTIN-14
            "9781234567897",  // ISBN
            "9771234567898",  // ISSN
            "9801234567892",  // refund receipt: not a coupon range
        ] {
            assert_eq!(validate(gtin), Ok(gtin.to_string()), "{gtin}");
        }
        assert_eq!(validate(" 400-6381 333931 "), Ok("4006381333931".into()));
        assert_eq!(validate("0-12000-00789-7"), Ok("012000007897".into()));
    }

    #[test]
    fn malformed() {
        assert_eq!(validate(""), Err(NotDigits));
        assert_eq!(validate(" - "), Err(NotDigits));
        assert_eq!(validate("40063813339x1"), Err(NotDigits));
        assert_eq!(validate("４００６３８１３３３９３１"), Err(NotDigits));
        assert_eq!(validate("12345678901"), Err(BadLength(11)));
        assert_eq!(validate("123456789012345"), Err(BadLength(15)));
        assert_eq!(
            validate("6291041500214"),
            Err(BadCheckDigit {
                expected: 3,
                found: 4
            })
        );
        assert_eq!(
            validate("012000007896"),
            Err(BadCheckDigit {
                expected: 7,
                found: 6
            })
        );
    }

    #[test]
    fn restricted_and_coupon_prefixes() {
        assert_eq!(validate("2001234567893"), restricted("2"));
        assert_eq!(validate("0212345678909"), restricted("02"));
        assert_eq!(validate("0412345678903"), restricted("04"));
        // A UPC-A starting with 2 is an in-store number too, and so is a GTIN-14 around one.
        assert_eq!(validate("201234567899"), restricted("02"));
        assert_eq!(validate("12001234567890"), restricted("2"));
        assert_eq!(validate("01234565"), restricted("0"));
        assert_eq!(validate("21234569"), restricted("2"));
        assert_eq!(validate("0512345000107"), coupon("05"));
        assert_eq!(validate("512345000107"), coupon("05"));
        assert_eq!(validate("9811234567891"), coupon("981"));
        assert_eq!(validate("9912345678909"), coupon("99"));
        assert_eq!(validate("00000000"), restricted("00000000"));
        assert_eq!(validate("00000000000000"), restricted("00000000000000"));
    }

    #[test]
    fn messages() {
        assert_eq!(
            BadLength(11).to_string(),
            "GTIN has 11 digits; a GTIN has 8, 12, 13 or 14"
        );
        assert_eq!(
            BadCheckDigit {
                expected: 7,
                found: 6
            }
            .to_string(),
            "check digit is 6, it should be 7"
        );
        assert_eq!(
            RestrictedPrefix("2".into()).to_string(),
            "prefix 2 is for in-store numbers, which channels reject"
        );
        assert_eq!(
            CouponPrefix("05".into()).to_string(),
            "prefix 05 is for coupons, which channels reject"
        );
        assert!(
            RestrictedPrefix("0000000000000".into())
                .to_string()
                .contains("placeholder")
        );
    }
}
