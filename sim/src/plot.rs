//! SVG plots of the paper's figures (plotters, SVG backend only).
//!
//! Each function renders into a string (so the caller decides where it goes and the
//! output is byte-for-byte reproducible) and returns it. Colours are fixed per policy.

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// A plot could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing {figure}: {reason}")]
pub struct PlotError {
    pub figure: &'static str,
    pub reason: String,
}

/// One named line: (x, y) points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Colour of the n-th series (the policies in report order).
fn colour(index: usize) -> RGBColor {
    // Fourteen, so that Fig. 7's twelve series (six policies, two loops) stay distinct.
    const COLOURS: [RGBColor; 14] = [
        RGBColor(214, 39, 40),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(31, 119, 180),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(0, 0, 0),
        RGBColor(31, 60, 110),
        RGBColor(120, 20, 20),
        RGBColor(20, 100, 60),
    ];
    COLOURS[index % COLOURS.len()]
}

fn bounds(series: &[Series], include_zero: bool) -> ((f64, f64), (f64, f64)) {
    let mut x = (f64::INFINITY, f64::NEG_INFINITY);
    let mut y = (f64::INFINITY, f64::NEG_INFINITY);
    for (px, py) in series.iter().flat_map(|s| s.points.iter()) {
        x = (x.0.min(*px), x.1.max(*px));
        y = (y.0.min(*py), y.1.max(*py));
    }
    if !x.0.is_finite() {
        x = (0.0, 1.0);
        y = (0.0, 1.0);
    }
    if include_zero {
        y.0 = y.0.min(0.0);
    }
    if x.1 <= x.0 {
        x.1 = x.0 + 1.0;
    }
    if y.1 <= y.0 {
        y.1 = y.0 + 1.0;
    }
    let pad = (y.1 - y.0) * 0.05;
    (x, (y.0, y.1 + pad))
}

/// An axis tick: a whole number without ".0" (plotters' default prints `500.0`), else
/// at most three decimals (nine below 0.001) without trailing zeros.
fn tick_label(value: &f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        return format!("{:.0}", value.round());
    }
    // Three decimals, more for ticks below 0.001 (a log axis): never a tick "0" that is not 0.
    let text = if value.abs() < 1e-3 { format!("{value:.9}") } else { format!("{value:.3}") };
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The grid, axis descriptions and tick labels of a chart.
fn draw_mesh<'a, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    x_label: &str,
    y_label: &str,
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&tick_label)
        .y_label_formatter(&tick_label)
        .draw()
        .map_err(|e| e.to_string())
}

/// Where a line chart's y axis starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YAxis {
    /// At 0 (fractions, latencies: the distance from nothing is the point).
    FromZero,
    /// Logarithmic, for values orders of magnitude apart (p99 latencies of 0.007 and
    /// 40 ms on one chart).
    Log,
    /// At the data (completion times around 30 s, where 30 against 37.6 is the point),
    /// with room above it for the legend (one row per series), which would otherwise
    /// sit on the lines.
    Fit,
}

/// Where a line chart's legend goes: where its lines are not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Legend {
    /// Rising lines that start low (latency or completion against a share).
    UpperLeft,
    /// CDFs, which fill the upper left and leave the lower right empty.
    LowerRight,
}

/// How a line chart looks beyond its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Look {
    /// A marker at each point (few points per line).
    pub markers: bool,
    /// Where the y axis starts.
    pub y_axis: YAxis,
    /// Where the legend goes.
    pub legend: Legend,
}

/// Line chart of several series on one set of axes.
pub fn line_chart(
    figure: &'static str,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    look: Look,
) -> Result<String, PlotError> {
    let Look { markers, y_axis, legend } = look;
    let fail = |reason: String| PlotError { figure, reason };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let ((x0, x1), (y0, mut y1)) = bounds(series, y_axis == YAxis::FromZero);
        if y_axis == YAxis::Fit {
            y1 += (y1 - y0) * 0.05 * series.len() as f64;
        }
        let mut builder = ChartBuilder::on(&root);
        builder.caption(title, ("sans-serif", 20)).margin(15).x_label_area_size(40).y_label_area_size(70);
        if y_axis == YAxis::Log {
            // A log axis has no 0: from two decades below the smallest positive value
            // (room for a lower legend under the lowest line) to twice the largest, so
            // values 100x apart (0.007 against 0.6 ms) stay apart.
            let smallest =
                series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|y| *y > 0.0).fold(f64::MAX, f64::min);
            let low = if smallest == f64::MAX { 1e-3 } else { smallest / 100.0 };
            let mut chart = builder
                .build_cartesian_2d(x0..x1, (low..(y1 * 2.0).max(low * 10.0)).log_scale())
                .map_err(|e| fail(e.to_string()))?;
            draw_lines(&mut chart, x_label, y_label, series, markers, legend).map_err(fail)?;
        } else {
            let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(|e| fail(e.to_string()))?;
            draw_lines(&mut chart, x_label, y_label, series, markers, legend).map_err(fail)?;
        }
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(svg)
}

/// The mesh, the lines (with markers when `markers`) and the legend of a line chart,
/// whatever its y coordinate (linear or log).
fn draw_lines<'a, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    markers: bool,
    legend: Legend,
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    draw_mesh(chart, x_label, y_label)?;
    for (index, line) in series.iter().enumerate() {
        let style = colour(index);
        chart
            .draw_series(LineSeries::new(line.points.iter().copied(), style.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(line.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style.stroke_width(2)));
        if markers {
            chart
                .draw_series(line.points.iter().map(|&(x, y)| Circle::new((x, y), 4, style.filled())))
                .map_err(|e| e.to_string())?;
        }
    }
    chart
        .configure_series_labels()
        .position(match legend {
            Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
            Legend::LowerRight => SeriesLabelPosition::LowerRight,
        })
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}

/// One panel per series, stacked (interval series of Fig. 1 and 2), same y range.
pub fn stacked_series(
    figure: &'static str,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<String, PlotError> {
    let fail = |reason: String| PlotError { figure, reason };
    let mut svg = String::new();
    {
        let height = 60 + 220 * series.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(|e| fail(e.to_string()))?;
        let panels = root.split_evenly((series.len().max(1), 1));
        let ((x0, x1), (y0, y1)) = bounds(series, true);
        for (index, (panel, line)) in panels.iter().zip(series).enumerate() {
            let style = colour(index);
            let mut chart = ChartBuilder::on(panel)
                .caption(&line.name, ("sans-serif", 15))
                .margin(8)
                .x_label_area_size(35)
                .y_label_area_size(60)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(|e| fail(e.to_string()))?;
            draw_mesh(&mut chart, x_label, y_label).map_err(fail)?;
            chart
                .draw_series(line.points.iter().map(|&(x, y)| Circle::new((x, y), 1, style.filled())))
                .map_err(|e| fail(e.to_string()))?;
        }
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::tick_label;

    #[test]
    fn whole_ticks_have_no_decimals_and_others_no_trailing_zeros() {
        assert_eq!(tick_label(&500.0), "500");
        assert_eq!(tick_label(&0.0), "0");
        assert_eq!(tick_label(&-20.0), "-20");
        assert_eq!(tick_label(&2.5), "2.5");
        assert_eq!(tick_label(&0.007), "0.007");
        assert_eq!(tick_label(&0.30000000000000004), "0.3");
        assert_eq!(tick_label(&0.0001), "0.0001");
        assert_eq!(tick_label(&0.00007), "0.00007");
    }
}
