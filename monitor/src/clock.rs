//! From TSC cycles to nanoseconds.
//!
//! Every timestamp in a trace is a TSC value (cycles of the CPU's time-stamp counter,
//! which on the machines Xen 4.17 supports ticks at a constant rate). Xen does not
//! write that rate into the trace, and neither does `xentrace`, so it comes from one
//! of three places, in this order:
//!
//! 1. `--cpu-hz` on the command line (`2.4GHz`, `2400MHz`, `2400000000`; on the
//!    traced host `xl info | grep cpu_mhz` gives it);
//! 2. an estimate from our own scheduler's events: an RT request carries its
//!    deadline in Xen system time (ns) and the RT fire that serves it carries how late
//!    the timer was (ns), so each fire is a point (TSC, ns); a straight line through at
//!    least two such points at least 100 ms apart gives cycles per ns;
//! 3. otherwise the rate is unknown and every time is reported in TSC cycles, and the
//!    report says so.

use std::fmt;

/// Least span of the RT-fire points, in ns, for an estimate (100 ms).
const MIN_ESTIMATE_SPAN_NS: u64 = 100_000_000;
/// Estimates outside 100 MHz..=10 GHz are rejected as nonsense.
const PLAUSIBLE_HZ: std::ops::RangeInclusive<u64> = 100_000_000..=10_000_000_000;

/// How far a `--cpu-hz` may be from the trace's own estimate before the report warns
/// (5%: a wrong unit or another host's value is off by far more; the estimate itself is
/// good to well under 1% over 100 ms of RT fires).
pub const MAX_DISAGREEMENT: f64 = 0.05;

/// Where the TSC rate came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    /// Given with `--cpu-hz`.
    CommandLine,
    /// Estimated from this many RT fires.
    RtFires(usize),
    /// Not known: times are TSC cycles.
    Unknown,
}

/// The TSC rate, if known, and how to convert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Clock {
    /// Cycles per second.
    pub hz: Option<u64>,
    /// Where `hz` came from.
    pub source: ClockSource,
}

/// A `--cpu-hz` value that could not be read, or that no TSC runs at.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadFrequency {
    /// Not a number with an optional k/M/G(Hz) suffix, or out of 1 Hz..=1 THz.
    #[error("cannot read CPU frequency {0:?}: give a number of Hz, optionally with a k/M/G suffix (2.4GHz, 2400MHz)")]
    Unreadable(String),
    /// Below 1 MHz, which no TSC runs at; a bare number is most likely `xl info`'s
    /// `cpu_mhz` given without its unit (the hint says so).
    #[error("CPU frequency {text:?} is {hz} Hz, below any TSC (at least 1 MHz){hint}")]
    TooLow {
        /// What was given.
        text: String,
        /// What it means in Hz.
        hz: u64,
        /// The likely intent, or empty.
        hint: String,
    },
}

impl Clock {
    /// A known rate from the command line.
    pub fn given(hz: u64) -> Clock {
        Clock { hz: Some(hz), source: ClockSource::CommandLine }
    }

    /// No rate known.
    pub fn unknown() -> Clock {
        Clock { hz: None, source: ClockSource::Unknown }
    }

    /// Nanoseconds in `cycles`, or the cycles themselves when the rate is unknown.
    pub fn to_unit(&self, cycles: u64) -> u64 {
        match self.hz {
            Some(hz) if hz > 0 => {
                u64::try_from(u128::from(cycles) * 1_000_000_000 / u128::from(hz)).unwrap_or(u64::MAX)
            }
            _ => cycles,
        }
    }

    /// `"ns"` or `"tsc_cycles"`: the unit of [`Clock::to_unit`].
    pub fn unit_name(&self) -> &'static str {
        if self.hz.is_some() {
            "ns"
        } else {
            "tsc_cycles"
        }
    }

    /// The rate estimated from (TSC, ns) points, if they allow one (see module docs).
    pub fn estimate(points: &[(u64, u64)]) -> Option<Clock> {
        if points.len() < 2 {
            return None;
        }
        let (min_ns, max_ns) = points.iter().fold((u64::MAX, 0), |(lo, hi), &(_, ns)| (lo.min(ns), hi.max(ns)));
        if max_ns - min_ns < MIN_ESTIMATE_SPAN_NS {
            return None;
        }
        // Least squares on values relative to the first point, in f64 (exact enough:
        // relative values stay well below 2^53).
        let (t0, n0) = points[0];
        let n = points.len() as f64;
        let xs: Vec<f64> = points.iter().map(|&(_, ns)| ns as f64 - n0 as f64).collect();
        let ys: Vec<f64> = points.iter().map(|&(tsc, _)| tsc as f64 - t0 as f64).collect();
        let mx = xs.iter().sum::<f64>() / n;
        let my = ys.iter().sum::<f64>() / n;
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
        if sxx <= 0.0 {
            return None;
        }
        let hz = (sxy / sxx * 1e9).round();
        if !hz.is_finite() || hz < 0.0 {
            return None;
        }
        let hz = hz as u64;
        PLAUSIBLE_HZ.contains(&hz).then_some(Clock { hz: Some(hz), source: ClockSource::RtFires(points.len()) })
    }
}

/// A `--cpu-hz` that the trace's own estimate contradicts.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Disagreement {
    /// The estimate from the trace's RT fires, Hz.
    pub estimated_hz: u64,
    /// `(given - estimated) / estimated`, as a fraction.
    pub off: f64,
}

/// `given`'s disagreement with `estimate`, when it is above [`MAX_DISAGREEMENT`].
pub fn disagreement(given: &Clock, estimate: &Clock) -> Option<Disagreement> {
    let (given_hz, estimated_hz) = (given.hz?, estimate.hz?);
    let off = (given_hz as f64 - estimated_hz as f64) / estimated_hz as f64;
    (off.abs() > MAX_DISAGREEMENT).then_some(Disagreement { estimated_hz, off })
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WARNING: the trace's own RT fires say the TSC runs at {:.3} MHz, {:+.1}% from --cpu-hz: every time in \
             this report uses --cpu-hz; check it (on the traced host, `xl info | grep cpu_mhz`), or leave it out to \
             use the estimate",
            self.estimated_hz as f64 / 1e6,
            self.off * 100.0
        )
    }
}

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.hz, self.source) {
            (Some(hz), ClockSource::CommandLine) => write!(f, "TSC at {:.3} MHz (--cpu-hz)", hz as f64 / 1e6),
            (Some(hz), ClockSource::RtFires(n)) => {
                write!(f, "TSC at {:.3} MHz (estimated from {n} RT fires; give --cpu-hz to be exact)", hz as f64 / 1e6)
            }
            _ => f.write_str(
                "CPU frequency unknown (the trace does not record it): times are in TSC cycles; give --cpu-hz",
            ),
        }
    }
}

/// Reads `2400000000`, `2.4GHz`, `2400MHz`, `2400M`, `2.4 G`, `3000000kHz`.
pub fn parse_hz(text: &str) -> Result<u64, BadFrequency> {
    let bad = || BadFrequency::Unreadable(text.to_string());
    let lower = text.trim().to_ascii_lowercase();
    let without_hz = lower.strip_suffix("hz").unwrap_or(&lower).trim_end();
    let (number, scale) = match without_hz.chars().last() {
        Some('k') => (&without_hz[..without_hz.len() - 1], 1e3),
        Some('m') => (&without_hz[..without_hz.len() - 1], 1e6),
        Some('g') => (&without_hz[..without_hz.len() - 1], 1e9),
        _ => (without_hz, 1.0),
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    let hz = (value * scale).round();
    if !(1.0..=1e12).contains(&hz) {
        return Err(bad());
    }
    if hz < 1e6 {
        let bare = without_hz.chars().all(|c| c.is_ascii_digit() || c == '.');
        let hint = if bare {
            format!("; `xl info` prints cpu_mhz in MHz: did you mean --cpu-hz {}MHz?", text.trim())
        } else {
            String::new()
        };
        return Err(BadFrequency::TooLow { text: text.trim().to_string(), hz: hz as u64, hint });
    }
    Ok(hz as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frequencies_with_suffixes() {
        assert_eq!(parse_hz("2400000000"), Ok(2_400_000_000));
        assert_eq!(parse_hz("2.4GHz"), Ok(2_400_000_000));
        assert_eq!(parse_hz("2400MHz"), Ok(2_400_000_000));
        assert_eq!(parse_hz("2400 M"), Ok(2_400_000_000));
        assert_eq!(parse_hz("3000000kHz"), Ok(3_000_000_000));
        assert!(parse_hz("fast").is_err());
        assert!(parse_hz("0").is_err());
        assert!(parse_hz("-3GHz").is_err());
    }

    /// `xl info` prints `cpu_mhz : 2100`; given as is, it would be 2100 Hz and the
    /// report would span 1.8 million seconds of an 11-minute trace.
    #[test]
    fn a_frequency_below_a_megahertz_is_refused_with_the_likely_unit() {
        let err = parse_hz("2100").unwrap_err();
        assert!(matches!(err, BadFrequency::TooLow { hz: 2100, .. }), "{err:?}");
        assert!(err.to_string().contains("is 2100 Hz, below any TSC"), "{err}");
        assert!(err.to_string().contains("did you mean --cpu-hz 2100MHz?"), "{err}");
        let err = parse_hz("500kHz").unwrap_err();
        assert!(matches!(err, BadFrequency::TooLow { hz: 500_000, .. }), "{err:?}");
        assert!(!err.to_string().contains("did you mean"), "a unit was given: {err}");
        assert_eq!(parse_hz("1MHz"), Ok(1_000_000));
    }

    #[test]
    fn converts_cycles_to_ns_only_when_known() {
        assert_eq!(Clock::given(2_000_000_000).to_unit(3_000), 1_500);
        assert_eq!(Clock::unknown().to_unit(3_000), 3_000);
        assert_eq!(Clock::unknown().unit_name(), "tsc_cycles");
    }

    #[test]
    fn a_given_rate_far_from_the_estimate_is_a_disagreement() {
        let estimate = Clock { hz: Some(2_100_000_000), source: ClockSource::RtFires(50) };
        assert_eq!(disagreement(&Clock::given(2_150_000_000), &estimate), None, "2.4% off: fine");
        let off = disagreement(&Clock::given(2_400_000_000), &estimate).expect("14% off");
        assert_eq!(off.estimated_hz, 2_100_000_000);
        assert!((off.off - 0.142_857).abs() < 1e-4, "{off:?}");
        assert!(off.to_string().contains("2100.000 MHz") && off.to_string().contains("+14.3%"), "{off}");
        assert!(disagreement(&Clock::given(1_900_000_000), &estimate).is_some_and(|d| d.off < 0.0));
        assert_eq!(disagreement(&Clock::given(2_400_000_000), &Clock::unknown()), None, "no estimate, no check");
    }

    #[test]
    fn estimates_the_rate_from_points() {
        let points: Vec<(u64, u64)> = (0..10u64).map(|i| (1_000 + i * 30_000_000 * 3, i * 30_000_000)).collect();
        let clock = Clock::estimate(&points).expect("enough points");
        assert_eq!(clock.hz, Some(3_000_000_000));
        assert_eq!(Clock::estimate(&points[..2]), None, "30 ms span is too short");
    }
}
