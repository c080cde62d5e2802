//! Money as channels write it, shared by the merge, content stubs and every preset.

use rust_decimal::Decimal;

/// Money as channels write it: two decimals, rounded half away from zero.
pub fn money(amount: Decimal) -> String {
    let rounded =
        amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{rounded:.2}")
}
