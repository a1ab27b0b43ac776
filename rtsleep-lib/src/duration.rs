//! Human durations: `10ms`, `1.5s`, `250us`, `500ns`, `2m`.
//!
//! One syntax for the `rtsleep` command's arguments and the preload shim's environment
//! variables: a non-negative decimal number immediately followed by a unit (`ns`, `us`
//! or `µs`, `ms`, `s`, `m`). A unit is required, so `10` is an error rather than a guess.
//! The result is rounded down to whole nanoseconds.

use std::time::Duration;

/// Why a duration did not parse. The message quotes the input and shows the syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration; write a number and a unit, e.g. 10ms, 1.5s or 250us")]
    Empty,
    #[error("duration {0:?} has no unit; write e.g. {0}ms or {0}us (units: ns, us, ms, s, m)")]
    MissingUnit(String),
    #[error("duration {input:?} has unknown unit {unit:?}; use one of ns, us, ms, s, m (e.g. 10ms)")]
    UnknownUnit { input: String, unit: String },
    #[error("duration {0:?} does not start with a number; write e.g. 10ms, 1.5s or 250us")]
    NotANumber(String),
    #[error("duration {0:?} is too long; the limit is about 584 years")]
    TooLong(String),
}

/// Parses a human duration (see the module doc).
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = unit.trim_start();
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(DurationError::NotANumber(input.to_string()));
    }
    let nanos_per_unit: u128 = match unit {
        "" => return Err(DurationError::MissingUnit(input.to_string())),
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        other => return Err(DurationError::UnknownUnit { input: input.to_string(), unit: other.to_string() }),
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let too_long = || DurationError::TooLong(input.to_string());
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_long())? };
    let mut nanos = whole.checked_mul(nanos_per_unit).ok_or_else(too_long)?;
    // Fraction: digits beyond nanosecond resolution are dropped (rounded down).
    let mut scale = nanos_per_unit;
    for digit in frac.bytes() {
        scale /= 10;
        if scale == 0 {
            break;
        }
        nanos += u128::from(digit - b'0') * scale;
    }
    let nanos = u64::try_from(nanos).map_err(|_| too_long())?;
    Ok(Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_unit_and_fractions() {
        assert_eq!(parse_duration("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("250µs"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("500ns"), Ok(Duration::from_nanos(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration(" 0.25ms "), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration(".5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1.0000000009s"), Ok(Duration::from_secs(1)));
    }

    #[test]
    fn rejects_bad_input_with_the_rule_it_broke() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("10"), Err(DurationError::MissingUnit("10".into())));
        assert!(matches!(parse_duration("10 parsecs"), Err(DurationError::UnknownUnit { .. })));
        assert!(matches!(parse_duration("10h"), Err(DurationError::UnknownUnit { .. })));
        assert_eq!(parse_duration("-5ms"), Err(DurationError::NotANumber("-5ms".into())));
        assert_eq!(parse_duration("ms"), Err(DurationError::NotANumber("ms".into())));
        assert_eq!(parse_duration("1.2.3s"), Err(DurationError::NotANumber("1.2.3s".into())));
        assert!(matches!(parse_duration("99999999999999999999999s"), Err(DurationError::TooLong(_))));
        let message = parse_duration("10").unwrap_err().to_string();
        assert!(message.contains("10ms"), "{message}");
    }
}
