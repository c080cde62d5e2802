//! Money as channels write it, shared by the merge, content stubs and every preset.

use rust_decimal::Decimal;

/// Two decimals, rounded half away from zero: `12.345` is `12.35`, `15` is `15.00`.
pub fn money(amount: Decimal) -> String {
    let rounded =
        amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{rounded:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_decimals_rounded_half_away_from_zero() {
        assert_eq!(money(Decimal::new(15, 0)), "15.00");
        assert_eq!(money(Decimal::new(12345, 3)), "12.35");
        assert_eq!(money(Decimal::new(1999, 2)), "19.99");
        assert_eq!(money(Decimal::new(-12345, 3)), "-12.35");
    }
}
