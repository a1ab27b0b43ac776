//! SVG plots: a timeline per CPU coloured by priority, and the CDF of wake-to-run
//! latency per domain (plotters, SVG backend only).
//!
//! The timeline has one row per physical CPU and time (from the trace's start) across.
//! It is drawn in [`TIMELINE_BINS`] columns, so the file stays small whatever the
//! trace's length: each column takes the colour of the priority that had the most CPU
//! time in it (idle time is left white), and when a more urgent priority also ran in
//! the column (a short RT or BOOST burst) a thin strip of its colour is drawn along the
//! top of the row, so bursts shorter than a column still show. Each function returns
//! the SVG text; the caller writes it.

use std::collections::BTreeMap;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::clock::Clock;
use crate::format::DOMID_IDLE;
use crate::model::{slot_name, Model, PRIO_SLOTS, UNKNOWN_PRIO};
use crate::report::PRIO_COLUMNS;

/// Columns of the timeline.
pub const TIMELINE_BINS: usize = 1200;
/// Most points drawn per CDF line.
const CDF_POINTS: usize = 2000;

/// A plot could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing the {figure}: {reason}")]
pub struct PlotError {
    /// Which plot.
    pub figure: &'static str,
    /// What plotters said.
    pub reason: String,
}

/// Colour of a priority slot: RT red, BOOST orange, UNDER green, OVER blue, else grey.
pub fn slot_colour(slot: usize) -> RGBColor {
    match slot {
        4 => RGBColor(214, 39, 40),
        3 => RGBColor(255, 127, 14),
        2 => RGBColor(44, 160, 44),
        1 => RGBColor(31, 119, 180),
        _ => RGBColor(150, 150, 150),
    }
}

fn domain_colour(index: usize) -> RGBColor {
    const COLOURS: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    COLOURS[index % COLOURS.len()]
}

/// The unit of x values: (name, cycles or ns per unit).
fn axis_unit(clock: &Clock, small: bool) -> (&'static str, f64) {
    match (clock.hz.is_some(), small) {
        (true, false) => ("ms", 1e6),
        (true, true) => ("us", 1e3),
        (false, false) => ("Mcycles", 1e6),
        (false, true) => ("kcycles", 1e3),
    }
}

/// One coloured run of timeline columns: CPU row, first and last column, slot.
type Band = (usize, usize, usize, usize);

/// The timeline's coloured bands, from the model's segments (see module docs).
fn timeline_bands(model: &Model, cpus: &[u32], pick: fn(&[u64; PRIO_SLOTS]) -> Option<usize>) -> Vec<Band> {
    let start = model.first_tsc.unwrap_or(0);
    let span = model.duration().max(1) as u128;
    let row_of: BTreeMap<u32, usize> = cpus.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let mut bins = vec![[0u64; PRIO_SLOTS]; cpus.len() * TIMELINE_BINS];
    let bin_of = |tsc: u64| {
        ((u128::from(tsc.saturating_sub(start)) * TIMELINE_BINS as u128 / span) as usize).min(TIMELINE_BINS - 1)
    };
    let bin_start = |b: usize| start + (b as u128 * span / TIMELINE_BINS as u128) as u64;
    for seg in model.segments.iter().filter(|s| s.vcpu.dom != DOMID_IDLE) {
        let Some(&row) = row_of.get(&seg.cpu) else { continue };
        let (first, last) = (bin_of(seg.start), bin_of(seg.end));
        for b in first..=last {
            let lo = seg.start.max(bin_start(b));
            let hi = if b + 1 < TIMELINE_BINS { seg.end.min(bin_start(b + 1)) } else { seg.end };
            let time = &mut bins[row * TIMELINE_BINS + b][seg.slot];
            *time = time.saturating_add(hi.saturating_sub(lo).max(1));
        }
    }
    let mut bands = Vec::new();
    for row in 0..cpus.len() {
        let mut current: Option<(usize, usize)> = None; // (first column, slot)
        for b in 0..=TIMELINE_BINS {
            let slot = (b < TIMELINE_BINS).then(|| pick(&bins[row * TIMELINE_BINS + b])).flatten();
            match (current, slot) {
                (Some((_, cur)), Some(s)) if cur == s => {}
                _ => {
                    if let Some((first, cur)) = current.take() {
                        bands.push((row, first, b - 1, cur));
                    }
                    current = slot.map(|s| (b, s));
                }
            }
        }
    }
    bands
}

/// Urgency of a slot for drawing: the priority value, "unknown" lowest.
fn urgency(slot: usize) -> usize {
    if slot == UNKNOWN_PRIO {
        0
    } else {
        slot + 1
    }
}

/// The slot with the most time in a column.
fn dominant(times: &[u64; PRIO_SLOTS]) -> Option<usize> {
    (0..PRIO_SLOTS).filter(|&s| times[s] > 0).max_by_key(|&s| (times[s], urgency(s)))
}

/// The most urgent slot in a column, if more urgent than the dominant one.
fn burst(times: &[u64; PRIO_SLOTS]) -> Option<usize> {
    let top = (0..PRIO_SLOTS).filter(|&s| times[s] > 0).max_by_key(|&s| urgency(s))?;
    (urgency(top) > dominant(times).map_or(0, urgency)).then_some(top)
}

/// The timeline (see module docs); needs a model built with segments kept.
pub fn timeline_svg(model: &Model, clock: &Clock) -> Result<String, PlotError> {
    let fail = |e: String| PlotError { figure: "timeline", reason: e };
    let cpus: Vec<u32> = model.cpus.iter().copied().collect();
    let bands = timeline_bands(model, &cpus, dominant);
    let bursts = timeline_bands(model, &cpus, burst);
    let (unit, per_unit) = axis_unit(clock, false);
    let total = (clock.to_unit(model.duration()) as f64 / per_unit).max(1e-9);
    let column = total / TIMELINE_BINS as f64;
    let rows = cpus.len().max(1);
    let height = 140 + 40 * rows as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1400, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let (plot_area, legend_area) = root.split_horizontally(1270);
        let mut chart = ChartBuilder::on(&plot_area)
            .caption("CPU timeline by priority", ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..total, -0.5f64..rows as f64 - 0.5)
            .map_err(|e| fail(e.to_string()))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 {
                    cpus.get(i as usize).map_or(String::new(), |c| format!("CPU {c}"))
                } else {
                    String::new()
                }
            })
            .x_desc(format!("time from the trace's start ({unit})"))
            .draw()
            .map_err(|e| fail(e.to_string()))?;
        chart
            .draw_series(bands.iter().map(|&(row, first, last, slot)| {
                let y = row as f64;
                Rectangle::new(
                    [(first as f64 * column, y - 0.35), ((last + 1) as f64 * column, y + 0.35)],
                    slot_colour(slot).filled(),
                )
            }))
            .map_err(|e| fail(e.to_string()))?;
        chart
            .draw_series(bursts.iter().map(|&(row, first, last, slot)| {
                let y = row as f64;
                Rectangle::new(
                    [(first as f64 * column, y + 0.2), ((last + 1) as f64 * column, y + 0.35)],
                    slot_colour(slot).filled(),
                )
            }))
            .map_err(|e| fail(e.to_string()))?;
        // The legend, beside the plot so that it hides nothing.
        for (i, slot) in PRIO_COLUMNS.into_iter().enumerate() {
            let y = 50 + 22 * i as i32;
            legend_area
                .draw(&Rectangle::new([(10, y), (26, y + 14)], slot_colour(slot).filled()))
                .map_err(|e| fail(e.to_string()))?;
            legend_area
                .draw(&Text::new(slot_name(slot), (34, y + 1), ("sans-serif", 14)))
                .map_err(|e| fail(e.to_string()))?;
        }
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(svg)
}

/// Wake-to-run latencies per domain (idle domain left out), cycles, sorted.
pub fn latencies_by_domain(model: &Model) -> BTreeMap<u32, Vec<u64>> {
    let mut by_domain: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for (id, history) in model.vcpus.iter().filter(|(id, _)| id.dom != DOMID_IDLE) {
        by_domain.entry(id.dom).or_default().extend_from_slice(&history.wake_latencies);
    }
    by_domain.retain(|_, v| !v.is_empty());
    for v in by_domain.values_mut() {
        v.sort_unstable();
    }
    by_domain
}

/// What the CDF says when the trace has no measured wake (a wake followed by its run).
pub const NO_WAKES_NOTE: &str = "no wake-ups measured in this trace (no wake followed by its run)";

/// The CDF of wake-to-run latency, one line per domain.
pub fn latency_cdf_svg(model: &Model, clock: &Clock) -> Result<String, PlotError> {
    let fail = |e: String| PlotError { figure: "latency CDF", reason: e };
    let (unit, per_unit) = axis_unit(clock, true);
    let by_domain = latencies_by_domain(model);
    let lines: Vec<(u32, Vec<(f64, f64)>)> = by_domain
        .iter()
        .map(|(&dom, sorted)| {
            let n = sorted.len();
            let step = n.div_ceil(CDF_POINTS).max(1);
            let mut points: Vec<(f64, f64)> = (0..n)
                .step_by(step)
                .chain(std::iter::once(n - 1))
                .map(|i| (clock.to_unit(sorted[i]) as f64 / per_unit, (i + 1) as f64 / n as f64))
                .collect();
            points.dedup();
            (dom, points)
        })
        .collect();
    let max_x = lines.iter().flat_map(|(_, p)| p.iter().map(|&(x, _)| x)).fold(0.0f64, f64::max).max(1e-9) * 1.02;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Wake-to-run latency, CDF per domain", ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..max_x, 0f64..1.0f64)
            .map_err(|e| fail(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc(format!("latency from wake (runnable) to running ({unit})"))
            .y_desc("fraction of wakes")
            .draw()
            .map_err(|e| fail(e.to_string()))?;
        for (index, (dom, points)) in lines.iter().enumerate() {
            let colour = domain_colour(index);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))
                .map_err(|e| fail(e.to_string()))?
                .label(format!("dom {dom} ({} wakes)", by_domain.get(dom).map_or(0, Vec::len)))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
        if !lines.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(|e| fail(e.to_string()))?;
        } else {
            // An empty chart is easy to misread as "no latency": say why it is empty.
            root.draw(&Text::new(
                NO_WAKES_NOTE,
                (450, 280),
                ("sans-serif", 18).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(|e| fail(e.to_string()))?;
        }
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(svg)
}
