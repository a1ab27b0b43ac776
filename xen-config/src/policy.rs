//! The policy file and the plan that makes a host match it.
//!
//! ```toml
//! [global]                 # optional: the scheduler's parameters
//! slice_ms = 30
//! ratelimit_us = 1000
//! min_period_us = 2000
//! max_lead_ms = 10000
//! rt_capacity_pct = 50     # RT budgets may add up to 50% of each CPU of the pool
//!
//! [[domain]]               # one rule per table; `match` is a name or a glob
//! match = "audio-*"
//! rt = "allow"             # or "deny"
//! rt_budget_pct = 20
//! rt_rate = 200
//! weight = 512
//! cap = 0
//! ```
//!
//! Each domain follows the one rule that matches it best: a rule whose `match` is the
//! exact name wins over any glob; among globs the most specific wins (the one with
//! the most literal characters, so `web-eu-*` beats `web-*` beats `*`); on a tie the
//! rule written first wins. Fields a rule leaves out are left as they are, and
//! domains no rule matches are left alone (`match = "*"` makes a default).

use std::ops::Range;

use rtcredit::rt::budget::rt_share_pct;
use serde::Deserialize;
use toml::Spanned;

use crate::backend::{Backend, DomainId, PoolId};
use crate::error::{Error, Result};
use crate::params::{DomChange, GlobalsChange};
use crate::xen::{XenDomctlSchedRtcredit, XenSysctlRtcreditSchedule};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    global: Option<Spanned<RawGlobal>>,
    #[serde(default)]
    domain: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGlobal {
    slice_ms: Option<Spanned<u64>>,
    ratelimit_us: Option<Spanned<u64>>,
    min_period_us: Option<Spanned<u64>>,
    max_lead_ms: Option<Spanned<u64>>,
    rt_capacity_pct: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    weight: Option<Spanned<u64>>,
    cap: Option<Spanned<u64>>,
    rt: Option<Spanned<String>>,
    rt_budget_pct: Option<Spanned<u64>>,
    rt_rate: Option<Spanned<u64>>,
}

/// One `[[domain]]` rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The `match` text.
    pub pattern: String,
    /// Line of the rule's `match` (1-based).
    pub line: usize,
    exact: bool,
    glob: glob::Pattern,
    pub change: DomChange,
}

impl Rule {
    fn matches(&self, name: &str) -> bool {
        if self.exact {
            self.pattern == name
        } else {
            self.glob.matches(name)
        }
    }

    /// Literal characters of the glob: more means more specific.
    fn specificity(&self) -> usize {
        let mut literal = 0;
        let mut in_class = false;
        for c in self.pattern.chars() {
            match c {
                '[' if !in_class => in_class = true,
                ']' if in_class => in_class = false,
                '*' | '?' if !in_class => {}
                _ if !in_class => literal += 1,
                _ => {}
            }
        }
        literal
    }
}

/// A parsed, validated policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Where it came from (for messages).
    pub file: String,
    pub global: GlobalsChange,
    /// Line of `[global]`, for errors that involve the running values.
    pub global_line: usize,
    pub rules: Vec<Rule>,
}

/// Where each line of a text starts, for 1-based line and column lookups in
/// O(log lines + column) instead of rescanning the text per lookup (a policy of 40k
/// rules looks up a position per rule).
struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of the start of each line; the first is 0.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> LineIndex<'a> {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).collect();
        LineIndex { text, starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        let column = self.text.get(start..offset).map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }
}

impl Policy {
    /// Reads and checks a policy file.
    pub fn load(path: &std::path::Path) -> Result<Policy> {
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        Policy::parse(&path.display().to_string(), &text)
    }

    /// Parses and checks policy text; every error carries `file:line:column`.
    pub fn parse(file: &str, text: &str) -> Result<Policy> {
        let lines = LineIndex::new(text);
        let line_col = |offset: usize| lines.line_col(offset);
        let at = |span: Range<usize>, message: String| {
            let (line, column) = line_col(span.start);
            Error::Policy { file: file.to_string(), line, column, message }
        };
        let raw: RawPolicy = toml::from_str(text)
            .map_err(|error| at(error.span().unwrap_or(0..0), error.message().trim().replace('\n', " ")))?;
        let value = |v: &Option<Spanned<u64>>| v.as_ref().map(|v| *v.get_ref());
        let mut global = GlobalsChange::default();
        let mut global_line = 0;
        if let Some(g) = &raw.global {
            global_line = line_col(g.span().start).0;
            let g = g.get_ref();
            global = GlobalsChange {
                slice_ms: value(&g.slice_ms),
                ratelimit_us: value(&g.ratelimit_us),
                min_period_us: value(&g.min_period_us),
                max_lead_ms: value(&g.max_lead_ms),
                rt_capacity_pct: value(&g.rt_capacity_pct),
            };
            // Each value on its own against the defaults; combinations with the running
            // values are checked again when applying.
            for (field, change) in [
                (&g.slice_ms, GlobalsChange { slice_ms: global.slice_ms, ..Default::default() }),
                (&g.ratelimit_us, GlobalsChange { ratelimit_us: global.ratelimit_us, ..Default::default() }),
                (&g.min_period_us, GlobalsChange { min_period_us: global.min_period_us, ..Default::default() }),
                (&g.max_lead_ms, GlobalsChange { max_lead_ms: global.max_lead_ms, ..Default::default() }),
                (&g.rt_capacity_pct, GlobalsChange { rt_capacity_pct: global.rt_capacity_pct, ..Default::default() }),
            ] {
                if let Some(field) = field {
                    if let Err(error) = change.merged(&crate::params::default_globals()) {
                        return Err(at(field.span(), error.to_string()));
                    }
                }
            }
            // ... and together, if they are all given.
            if let Err(error) = global.merged(&crate::params::default_globals()) {
                return Err(at(raw.global.as_ref().map_or(0..0, Spanned::span), error.to_string()));
            }
        }
        let mut rules: Vec<Rule> = Vec::new();
        // Line of the rule for each exact name so far, for the duplicate check.
        let mut exact_lines: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for rule in &raw.domain {
            let r = rule.get_ref();
            let pattern = r.pattern.get_ref().clone();
            let line = line_col(r.pattern.span().start).0;
            if pattern.is_empty() {
                return Err(at(r.pattern.span(), "match must not be empty".to_string()));
            }
            let glob = glob::Pattern::new(&pattern)
                .map_err(|error| at(r.pattern.span(), format!("bad glob \"{pattern}\": {}", error.msg)))?;
            let exact = !pattern.contains(['*', '?', '[']);
            if exact {
                if let Some(first) = exact_lines.insert(pattern.clone(), line) {
                    return Err(at(
                        r.pattern.span(),
                        format!("a second rule for \"{pattern}\" (the first is at line {first})"),
                    ));
                }
            }
            let rt_allowed = match &r.rt {
                None => None,
                Some(rt) => match rt.get_ref().as_str() {
                    "allow" => Some(true),
                    "deny" => Some(false),
                    other => return Err(at(rt.span(), format!("rt must be \"allow\" or \"deny\", not \"{other}\""))),
                },
            };
            let change = DomChange {
                weight: value(&r.weight),
                cap: value(&r.cap),
                rt_allowed,
                rt_budget_pct: value(&r.rt_budget_pct),
                rt_rate_per_s: value(&r.rt_rate),
            };
            for (field, one) in [
                (&r.weight, DomChange { weight: change.weight, ..Default::default() }),
                (&r.cap, DomChange { cap: change.cap, ..Default::default() }),
                (&r.rt_budget_pct, DomChange { rt_budget_pct: change.rt_budget_pct, ..Default::default() }),
                (&r.rt_rate, DomChange { rt_rate_per_s: change.rt_rate_per_s, ..Default::default() }),
            ] {
                if let (Some(field), Err(error)) = (field, one.validate()) {
                    return Err(at(field.span(), error.to_string()));
                }
            }
            if change.is_empty() {
                return Err(at(rule.span(), format!("the rule for \"{pattern}\" sets nothing")));
            }
            rules.push(Rule { pattern, line, exact, glob, change });
        }
        if raw.global.is_none() && rules.is_empty() {
            return Err(at(0..0, "the policy has neither [global] nor any [[domain]] rule".to_string()));
        }
        Ok(Policy { file: file.to_string(), global, global_line, rules })
    }

    /// The rule a domain of this name follows, if any (see the module documentation).
    pub fn rule_for(&self, name: &str) -> Option<&Rule> {
        let mut best: Option<&Rule> = None;
        for rule in self.rules.iter().filter(|rule| rule.matches(name)) {
            best = match best {
                None => Some(rule),
                Some(b) if b.exact => Some(b),
                Some(_) if rule.exact => Some(rule),
                Some(b) if rule.specificity() > b.specificity() => Some(rule),
                Some(b) => Some(b),
            };
        }
        best
    }
}

/// A domain the plan changes.
#[derive(Clone, Debug)]
pub struct DomStep {
    pub dom: DomainId,
    pub rule_line: usize,
    pub pattern: String,
    pub from: XenDomctlSchedRtcredit,
    /// Only the fields that differ.
    pub change: DomChange,
}

impl DomStep {
    /// The RT permission and budget in force after the step.
    fn rt_after(&self) -> (bool, u32) {
        let allowed = self.change.rt_allowed.unwrap_or(self.from.rt_allowed != 0);
        let budget = self.change.rt_budget_pct.map_or(u32::from(self.from.rt_budget_pct), |v| v as u32);
        (allowed, budget)
    }

    /// Whether the step takes more of the pool's RT capacity than the domain has now.
    fn raises_rt_share(&self) -> bool {
        let (allowed, budget) = self.rt_after();
        rt_share_pct(allowed, budget) > rt_share_pct(self.from.rt_allowed != 0, self.from.rt_budget_pct.into())
    }

    fn execute(&self, backend: &mut dyn Backend) -> Result<()> {
        let budget = self.rt_after().1;
        backend
            .put_dom(self.dom.id, &self.change.to_put())
            .map(|_| ())
            .map_err(|error| error.for_domain(&self.dom.name, self.dom.id, budget))
    }
}

/// What `apply` would do.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Running and wanted globals, when they differ.
    pub globals: Option<(XenSysctlRtcreditSchedule, XenSysctlRtcreditSchedule)>,
    pub domains: Vec<DomStep>,
}

impl Plan {
    /// Compares the host with the policy.
    pub fn make(policy: &Policy, backend: &mut dyn Backend) -> Result<Plan> {
        let mut plan = Plan::default();
        if !policy.global.is_empty() {
            let now = backend.get_globals(&PoolId::zero())?;
            let want = policy.global.merged(&now).map_err(|error| Error::Policy {
                file: policy.file.clone(),
                line: policy.global_line,
                column: 1,
                message: format!("with the running values: {error}"),
            })?;
            if want != now {
                plan.globals = Some((now, want));
            }
        }
        for dom in backend.domains()? {
            let Some(rule) = policy.rule_for(&dom.name) else { continue };
            let from = match backend.get_dom(dom.id) {
                // Destroyed since the list was read: nothing to do for it.
                Err(Error::UnknownDomain(_)) => continue,
                other => other?,
            };
            let change = rule.change.against(&from);
            change.check_for(&dom).map_err(|error| Error::Policy {
                file: policy.file.clone(),
                line: rule.line,
                column: 1,
                message: error.to_string(),
            })?;
            if !change.is_empty() {
                plan.domains.push(DomStep { dom, rule_line: rule.line, pattern: rule.pattern.clone(), from, change });
            }
        }
        Ok(plan)
    }

    pub fn is_empty(&self) -> bool {
        self.globals.is_none() && self.domains.is_empty()
    }

    /// One line per change, as `apply` prints them.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some((from, to)) = &self.globals {
            lines.push(format!("global: {}", GlobalsChange::describe(from, to)));
        }
        for step in &self.domains {
            lines.push(format!(
                "{} (id {}, rule \"{}\" at line {}): {}",
                step.dom.name,
                step.dom.id,
                step.pattern,
                step.rule_line,
                step.change.describe(&step.from)
            ));
        }
        lines
    }

    /// Makes the changes in the order the pool's RT capacity needs: first the domain
    /// changes that do not raise a domain's RT share (revocations, smaller budgets,
    /// weights), then the globals (a capacity lowered to what is left, or raised), then
    /// the changes that raise a share, so that a policy that moves RT budget from one
    /// domain to another, or shrinks the capacity after revoking, applies in one go.
    pub fn execute(&self, backend: &mut dyn Backend) -> Result<()> {
        let (raising, others): (Vec<&DomStep>, Vec<&DomStep>) =
            self.domains.iter().partition(|step| step.raises_rt_share());
        for step in others {
            step.execute(backend)?;
        }
        if let Some((_, to)) = &self.globals {
            backend.put_globals(&PoolId::zero(), to)?;
        }
        for step in raising {
            step.execute(backend)?;
        }
        Ok(())
    }
}
