//! `rtcredit-ctl`: dom0 administration of Xen's `sched=rtcredit`, the way
//! `xl sched-credit` administers credit, plus what `xl` cannot do: a declarative
//! policy that follows domains as they come and go.
//!
//! * [`backend`]: the small trait everything runs against; [`xenctrl`] implements it
//!   with Xen's LGPL libraries loaded at run time, [`fake`] in memory for tests.
//! * [`xen`]: the Xen 4.17 structures libxenctrl takes (layout-tested); the
//!   `sched=rtcredit` payloads come from the one ABI definition, `rtcredit::abi`.
//! * [`params`]: requested changes, checked with the core's own rules.
//! * [`policy`]: the TOML policy, rule matching and the plan `apply` carries out.
//! * [`bootargs`]: Xen command-line words and the GRUB check.
//! * [`output`]: tables and JSON; [`cli`]: the commands.

pub mod backend;
pub mod bootargs;
pub mod cli;
pub mod error;
pub mod fake;
pub mod output;
pub mod params;
pub mod policy;
pub mod xen;
pub mod xenctrl;

pub use backend::{Backend, DomainId, PoolId};
pub use error::{Error, Result};
