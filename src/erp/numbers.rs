//! Scanning numbers as the exports write them, without `f64`: `12.50`, or with a decimal
//! comma `1.234,50`, into exact decimals and whole numbers.

use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberError {
    /// Not a number in the expected notation.
    Malformed,
    /// A fraction where a whole number is needed (`12.0` counts: stock is counted, not measured).
    Fraction,
    /// Too many digits for the target type.
    Range,
}

/// Long enough for any `Decimal` (29 digits, a point and up to 28 leading fraction zeros)
/// while letting the canonical form live on the stack.
pub(crate) const MAX_NUMBER_LEN: usize = 64;

/// A number reduced to plain ASCII `digits[.digits]`, sign kept aside.
pub(crate) struct Scanned {
    buffer: [u8; MAX_NUMBER_LEN],
    len: usize,
    negative: bool,
    fraction: bool,
}

impl Scanned {
    fn push(&mut self, bytes: &[u8]) -> Result<(), NumberError> {
        let end = self.len + bytes.len();
        if end > MAX_NUMBER_LEN {
            return Err(NumberError::Range);
        }
        self.buffer[self.len..end].copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and `.` are ever pushed.
        std::str::from_utf8(&self.buffer[..self.len]).unwrap_or("")
    }
}

/// Accepts `[+-]digits[.digits]`, or with `decimal_comma` `[+-]d.ddd.ddd[,digits]` where dots
/// must group thousands: checking the grouping is what keeps a stray `12.50` from silently
/// becoming 1250.
pub(crate) fn scan_number(text: &str, decimal_comma: bool) -> Result<Scanned, NumberError> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let (point, group) = if decimal_comma {
        (b',', Some(b'.'))
    } else {
        (b'.', None)
    };
    let (int, fraction) = match rest.iter().position(|&b| b == point) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let mut scanned = Scanned {
        buffer: [0; MAX_NUMBER_LEN],
        len: 0,
        negative,
        fraction: false,
    };
    match group {
        Some(group) if int.contains(&group) => {
            for (index, chunk) in int.split(|&b| b == group).enumerate() {
                let size_ok = if index == 0 {
                    (1..=3).contains(&chunk.len())
                } else {
                    chunk.len() == 3
                };
                if !size_ok || !chunk.iter().all(u8::is_ascii_digit) {
                    return Err(NumberError::Malformed);
                }
                scanned.push(chunk)?;
            }
        }
        _ => {
            if !int.iter().all(u8::is_ascii_digit) {
                return Err(NumberError::Malformed);
            }
            scanned.push(int)?;
        }
    }
    match fraction {
        Some(fraction) => {
            if !fraction.iter().all(u8::is_ascii_digit) || (int.is_empty() && fraction.is_empty()) {
                return Err(NumberError::Malformed);
            }
            if !fraction.is_empty() {
                if int.is_empty() {
                    scanned.push(b"0")?;
                }
                scanned.push(b".")?;
                scanned.push(fraction)?;
                scanned.fraction = true;
            }
        }
        None if int.is_empty() => return Err(NumberError::Malformed),
        None => {}
    }
    Ok(scanned)
}

pub(crate) fn parse_decimal(text: &str, decimal_comma: bool) -> Result<Decimal, NumberError> {
    let scanned = scan_number(text, decimal_comma)?;
    let mut value = Decimal::from_str_exact(scanned.as_str()).map_err(|_| NumberError::Range)?;
    if scanned.negative && !value.is_zero() {
        value.set_sign_negative(true);
    }
    Ok(value)
}

/// A JSON number literal may use an exponent, which person-written CSV text never should.
pub(crate) fn parse_json_decimal(literal: &str) -> Result<Decimal, NumberError> {
    if literal.contains(['e', 'E']) {
        let value = Decimal::from_scientific(literal).map_err(|_| NumberError::Range)?;
        Ok(if value.is_zero() {
            Decimal::ZERO
        } else {
            value
        })
    } else {
        parse_decimal(literal, false)
    }
}

pub(crate) fn parse_integer(text: &str, decimal_comma: bool) -> Result<i64, NumberError> {
    let scanned = scan_number(text, decimal_comma)?;
    if scanned.fraction || text.contains(['e', 'E']) {
        return Err(NumberError::Fraction);
    }
    let magnitude: i64 = scanned.as_str().parse().map_err(|_| NumberError::Range)?;
    Ok(if scanned.negative {
        -magnitude
    } else {
        magnitude
    })
}
