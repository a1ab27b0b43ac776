//! The scheduling policies compared in one run.
//!
//! Each is a set of global parameters for the core plus one rule for the guests:
//!
//! * `credit`: Xen 4.17's credit scheduler: [`Params::default()`] (30 ms slice, 10 ms
//!   tick, 1 ms rate limit, exact run-time charging); no guest ever asks for RT.
//! * `credit-2012`: the credit scheduler of the paper's era (Xen 3.4/4.0/4.1): whoever
//!   runs when a 10 ms tick fires pays the whole tick ([`ChargeMode::TickSampled`]),
//!   and there is no rate limit (`ratelimit_ns: 0`; it came with Xen 4.2).
//! * `credit-1ms`: 4.17's credit tuned the way a user would try first: a 1 ms slice
//!   (hence a 1 ms tick) and no rate limit.
//! * `credit2`: Xen 4.17's default scheduler, as the model in [`crate::credit2`] (the
//!   core's parameters do not apply); no guest asks for RT.
//! * `rtds`: Xen 4.17's RTDS, as the model in [`crate::rtds`], each domain with its
//!   RTDS period, budget and extratime flag (RTDS's defaults unless a scenario says).
//! * `rtcredit`: the defaults plus RT: the measured domain is allowed RT and its periodic
//!   task registers each deadline with `SCHEDOP_rtsleep`.

use rtcredit::{ChargeMode, Params};

use crate::engine::Model;

const MS: u64 = 1_000_000;

/// A scheduling policy.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
pub enum Policy {
    #[serde(rename = "credit")]
    #[value(name = "credit")]
    Credit,
    #[serde(rename = "credit-2012")]
    #[value(name = "credit-2012")]
    Credit2012,
    #[serde(rename = "credit-1ms")]
    #[value(name = "credit-1ms")]
    Credit1ms,
    #[serde(rename = "credit2")]
    #[value(name = "credit2")]
    Credit2,
    #[serde(rename = "rtds")]
    #[value(name = "rtds")]
    Rtds,
    #[serde(rename = "rtcredit")]
    #[value(name = "rtcredit")]
    Rtcredit,
}

impl Policy {
    /// Every policy, in report order.
    pub const ALL: [Policy; 6] =
        [Policy::Credit, Policy::Credit2012, Policy::Credit1ms, Policy::Credit2, Policy::Rtds, Policy::Rtcredit];

    /// The name used on the command line, in files and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Policy::Credit => "credit",
            Policy::Credit2012 => "credit-2012",
            Policy::Credit1ms => "credit-1ms",
            Policy::Credit2 => "credit2",
            Policy::Rtds => "rtds",
            Policy::Rtcredit => "rtcredit",
        }
    }

    /// Who decides under this policy.
    pub const fn model(self) -> Model {
        match self {
            Policy::Credit2 => Model::Credit2,
            Policy::Rtds => Model::Rtds,
            _ => Model::Core,
        }
    }

    /// The core's global parameters for this policy.
    pub fn params(self) -> Params {
        let defaults = Params::default();
        match self {
            Policy::Credit | Policy::Rtcredit | Policy::Credit2 | Policy::Rtds => defaults,
            Policy::Credit2012 => Params { ratelimit_ns: 0, charge_mode: ChargeMode::TickSampled as u32, ..defaults },
            Policy::Credit1ms => Params { tslice_ns: MS, ratelimit_ns: 0, ..defaults },
        }
    }

    /// Whether guests call `SCHEDOP_rtsleep` under this policy.
    pub const fn rt_enabled(self) -> bool {
        matches!(self, Policy::Rtcredit)
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_has_valid_parameters() {
        for policy in Policy::ALL {
            assert_eq!(policy.params().validate(), Ok(()), "{policy}");
        }
        assert_eq!(Policy::Credit1ms.params().tick_ns(), MS);
        assert_eq!(Policy::Credit2012.params().ratelimit_ns, 0);
        assert!(Policy::Rtcredit.rt_enabled() && !Policy::Credit.rt_enabled());
    }
}
