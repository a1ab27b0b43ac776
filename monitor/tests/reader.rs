//! The reader on synthetic traces in the exact binary format: good input, and each
//! rule for bad input with its own test.

mod common;

use std::io::{self, Read};

use common::{record_bytes, TraceWriter};
use rtcredit_monitor::format::{Runstate, TRC_LOST_RECORDS, TRC_TRACE_WRAP_BUFFER};
use rtcredit_monitor::reader::{Record, TraceError, TraceReader};
use rtcredit_monitor::{analyze, Report};

fn read_all(bytes: &[u8]) -> (Vec<Record>, Vec<TraceError>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in TraceReader::new(bytes) {
        match item {
            Ok(r) => records.push(r),
            Err(e) => errors.push(e),
        }
    }
    (records, errors)
}

#[test]
fn empty_input_has_no_records_and_no_errors() {
    let (records, errors) = read_all(&[]);
    assert!(records.is_empty());
    assert!(errors.is_empty());
}

#[test]
fn records_with_and_without_tsc_keep_their_data_and_offsets() {
    let mut t = TraceWriter::new();
    t.window(3, |w| {
        w.rec(0x0008_1002, Some(0x1_0000_0005), &[7, 8, 9]);
        w.rec(0x0008_1003, None, &[]);
        w.rec(0x0008_1004, None, &[1, 2, 3, 4, 5, 6, 7]);
        w.rec(0x0008_1005, Some(42), &[]);
    });
    let (records, errors) = read_all(&t.bytes);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 4);
    let r = &records[0];
    assert_eq!((r.offset, r.cpu, r.event, r.tsc, r.tsc_included), (12, 3, 0x0008_1002, Some(0x1_0000_0005), true));
    assert_eq!(r.data(), &[7, 8, 9]);
    // No TSC: the CPU's previous timestamp.
    assert_eq!((records[1].offset, records[1].tsc, records[1].tsc_included), (12 + 24, Some(0x1_0000_0005), false));
    assert!(records[1].data().is_empty());
    assert_eq!(records[2].offset, 12 + 24 + 4);
    assert_eq!(records[2].data(), &[1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(records[3].tsc, Some(42));
}

#[test]
fn a_record_without_tsc_before_any_timestamp_has_no_time() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.rec(0x0008_1002, None, &[1]);
    });
    let (records, _) = read_all(&t.bytes);
    assert_eq!(records[0].tsc, None);
}

#[test]
fn cpu_changes_assign_records_to_their_cpu_and_timestamps_stay_per_cpu() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.rec(0x0008_1002, Some(100), &[]);
    });
    t.window(1, |w| {
        w.rec(0x0008_1002, Some(50), &[]);
    });
    t.window(0, |w| {
        w.rec(0x0008_1002, None, &[]);
    });
    let (records, errors) = read_all(&t.bytes);
    assert!(errors.is_empty());
    let cpus: Vec<u32> = records.iter().map(|r| r.cpu).collect();
    assert_eq!(cpus, vec![0, 1, 0]);
    assert_eq!(records[2].tsc, Some(100), "inherits CPU 0's timestamp, not CPU 1's");
}

#[test]
fn wrap_buffer_padding_is_skipped_and_counted() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.rec(0x0008_1002, Some(1), &[]);
        w.rec(TRC_TRACE_WRAP_BUFFER, Some(2), &[0, 0, 0]);
        w.rec(0x0008_1002, Some(3), &[]);
    });
    let mut reader = TraceReader::new(&t.bytes[..]);
    let records: Vec<_> = reader.by_ref().collect::<Result<_, _>>().expect("no errors");
    assert_eq!(records.len(), 2);
    assert_eq!(reader.stats().wrap_records, 1);
    assert_eq!(reader.stats().bytes, t.bytes.len() as u64);
}

#[test]
fn lost_records_are_delivered_and_reported_as_gaps() {
    let mut t = TraceWriter::new();
    t.window(2, |w| {
        w.lost(5_000, 17, 0x2_0000_1000);
    });
    let (records, errors) = read_all(&t.bytes);
    assert!(errors.is_empty());
    assert_eq!(records[0].event, TRC_LOST_RECORDS);
    let analysis = analyze(&t.bytes[..], false, |_| {});
    let gap = &analysis.model.lost[0];
    assert_eq!((gap.cpu, gap.count, gap.from_tsc, gap.to_tsc, gap.offset), (2, 17, 0x2_0000_1000, 5_000, 12));
    let report = Report::build(&analysis, None);
    assert!(report.to_table(false).contains("CPU 2 lost 17"), "{}", report.to_table(false));
}

#[test]
fn truncated_tail_inside_a_record_names_the_offset_and_keeps_earlier_records() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.rec(0x0008_1002, Some(1), &[1]);
        w.rec(0x0008_1002, Some(2), &[1, 2, 3]);
    });
    let cut = t.bytes.len() - 5;
    let (records, errors) = read_all(&t.bytes[..cut]);
    assert_eq!(records.len(), 1);
    assert_eq!(errors.len(), 1);
    match &errors[0] {
        TraceError::TruncatedRecord { offset, needed, available } => {
            assert_eq!((*offset, *needed, *available), (12 + 16, 24, 19));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(errors[0].to_string().starts_with("byte 28:"), "{}", errors[0]);
}

#[test]
fn truncated_tail_between_records_says_how_much_of_the_window_is_missing() {
    let mut t = TraceWriter::new();
    t.window(4, |w| {
        w.rec(0x0008_1002, Some(1), &[]);
        w.rec(0x0008_1002, Some(2), &[]);
    });
    let cut = t.bytes.len() - 12;
    let (records, errors) = read_all(&t.bytes[..cut]);
    assert_eq!(records.len(), 1);
    match &errors[..] {
        [TraceError::TruncatedWindow { offset: 24, cpu: 4, missing: 12 }] => {}
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn truncated_cpu_change_record_is_reported() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.rec(0x0008_1002, Some(1), &[]);
    });
    let whole = t.bytes.len();
    t.cpu_change(1, 16);
    let (records, errors) = read_all(&t.bytes[..whole + 8]);
    assert_eq!(records.len(), 1);
    match &errors[..] {
        [TraceError::TruncatedRecord { offset, needed: 12, available: 8 }] => assert_eq!(*offset, whole as u64),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn garbage_before_the_first_window_is_skipped_to_the_next_cpu_change() {
    let mut t = TraceWriter::new();
    t.raw(b"not a trace at all!");
    t.window(1, |w| {
        w.rec(0x0008_1002, Some(1), &[5]);
    });
    let (records, errors) = read_all(&t.bytes);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].data(), &[5]);
    match &errors[..] {
        [TraceError::MissingCpuChange { offset: 0, skipped: 19, resume: 19, .. }] => {}
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn garbage_between_windows_is_skipped_to_the_next_cpu_change() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.rec(0x0008_1002, Some(1), &[]);
    });
    let garbage_at = t.offset();
    t.raw(&[0xff; 37]);
    t.window(1, |w| {
        w.rec(0x0008_1002, Some(2), &[]);
    });
    let (records, errors) = read_all(&t.bytes);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].cpu, 1);
    match &errors[..] {
        [TraceError::MissingCpuChange { offset, found: 0xffff_ffff, skipped: 37, .. }] => {
            assert_eq!(*offset, garbage_at)
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn garbage_to_the_end_is_skipped_and_reported() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.rec(0x0008_1002, Some(1), &[]);
    });
    t.raw(&[0xab; 100]);
    let mut reader = TraceReader::new(&t.bytes[..]);
    let items: Vec<_> = reader.by_ref().collect();
    assert_eq!(items.len(), 2);
    assert!(matches!(items[1], Err(TraceError::MissingCpuChange { skipped: 100, .. })));
    assert_eq!(reader.stats().skipped_bytes, 100);
}

#[test]
fn corrupted_header_inside_a_window_skips_the_rest_of_that_window_only() {
    let mut t = TraceWriter::new();
    let mut bad_at = 0;
    t.window(0, |w| {
        w.rec(0x0008_1002, Some(1), &[]);
        bad_at = 12 + w.bytes.len() as u64;
        w.raw(&0x0000_0123u32.to_le_bytes()); // no class bit
        w.rec(0x0008_1002, Some(2), &[]);
    });
    t.window(1, |w| {
        w.rec(0x0008_1002, Some(3), &[]);
    });
    let (records, errors) = read_all(&t.bytes);
    let tscs: Vec<_> = records.iter().map(|r| r.tsc).collect();
    assert_eq!(tscs, vec![Some(1), Some(3)]);
    match &errors[..] {
        [TraceError::CorruptHeader { offset, header: 0x123, cpu: 0, skipped: 16, .. }] => assert_eq!(*offset, bad_at),
        other => panic!("unexpected {other:?}"),
    }
    assert!(errors[0].to_string().contains("no trace class bit"), "{}", errors[0]);
}

#[test]
fn header_with_several_class_bits_is_corrupt() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.rec(0x0003_1002, Some(1), &[]);
    });
    let (_, errors) = read_all(&t.bytes);
    assert!(matches!(&errors[..], [TraceError::CorruptHeader { reason, .. }] if reason.contains("several")));
}

#[test]
fn record_running_past_its_window_is_corrupt() {
    let mut t = TraceWriter::new();
    let record = record_bytes(0x0008_1002, Some(1), &[1, 2, 3]);
    t.cpu_change(0, 12); // the record is 24 bytes
    t.raw(&record);
    t.window(1, |w| {
        w.rec(0x0008_1002, Some(2), &[]);
    });
    let (records, errors) = read_all(&t.bytes);
    assert!(matches!(&errors[0], TraceError::CorruptHeader { offset: 12, reason, skipped: 12, .. }
        if reason.contains("past the end")));
    // The window's other 12 bytes then stand where a CPU change should be: rescan.
    assert!(matches!(&errors[1], TraceError::MissingCpuChange { offset: 24, .. }));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].cpu, 1);
}

#[test]
fn implausible_cpu_change_is_skipped_with_a_reason() {
    let mut t = TraceWriter::new();
    t.cpu_change(100_000, 16);
    t.window(0, |w| {
        w.rec(0x0008_1002, Some(1), &[]);
    });
    let (records, errors) = read_all(&t.bytes);
    assert_eq!(records.len(), 1);
    match &errors[..] {
        [e @ TraceError::MissingCpuChange { offset: 0, skipped: 12, .. }] => {
            assert!(e.to_string().contains("CPU 100000"), "{e}")
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn cpu_change_inside_a_window_starts_a_new_window() {
    let mut t = TraceWriter::new();
    t.cpu_change(0, 64); // announces more than it holds
    t.raw(&record_bytes(0x0008_1002, Some(1), &[]));
    t.window(1, |w| {
        w.rec(0x0008_1002, Some(2), &[]);
    });
    let (records, errors) = read_all(&t.bytes);
    assert_eq!(records.iter().map(|r| r.cpu).collect::<Vec<_>>(), vec![0, 1]);
    assert!(matches!(&errors[..], [TraceError::UnexpectedCpuChange { offset: 24, cpu: 0, left: 52 }]));
}

#[test]
fn unknown_event_ids_are_reported_with_their_first_offset() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.rec(0x0002_1005, Some(1), &[]); // TRC_SCHED_MIN + 5: not defined
        w.ours(2, 99, &[1, 2]); // our class, no such event
        w.rec(0x0200_1001, Some(3), &[]); // class bit Xen does not define
        w.rec(0x0002_1005, Some(4), &[]);
    });
    let analysis = analyze(&t.bytes[..], false, |_| {});
    let anomalies = &analysis.model.anomalies;
    assert_eq!(anomalies.len(), 3);
    let first = anomalies.values().find(|a| a.event == 0x0002_1005).expect("reported");
    assert_eq!((first.count, first.first_offset), (2, 12));
    let notes = Report::build(&analysis, None).notes();
    assert!(notes.contains("event 0x0021005: unknown event id x2 (first at byte 12)"), "{notes}");
    assert!(notes.contains("unknown RT-Credit event id"), "{notes}");
}

#[test]
fn our_events_with_too_few_words_are_reported_not_used() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.ours(1, rtcredit::trace::SWITCH_IN, &[1, 0]);
        w.runstate(2, 1, 0, Runstate::Runnable, Runstate::Running);
    });
    let analysis = analyze(&t.bytes[..], false, |_| {});
    assert!(analysis.model.anomalies.values().any(|a| a.what == "too few data words" && a.first_offset == 12));
}

/// A reader that fails after `ok` bytes.
struct FailingInput<'a> {
    bytes: &'a [u8],
    ok: usize,
}

impl Read for FailingInput<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.ok).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        self.ok -= n;
        Ok(n)
    }
}

#[test]
fn an_io_error_stops_reading_and_keeps_what_was_read() {
    let mut t = TraceWriter::new();
    t.window(0, |w| {
        w.rec(0x0008_1002, Some(1), &[]);
    });
    t.window(0, |w| {
        w.rec(0x0008_1002, Some(2), &[]);
    });
    let input = FailingInput { bytes: &t.bytes, ok: 24 };
    let items: Vec<_> = TraceReader::new(input).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let err = items[1].as_ref().expect_err("I/O error");
    assert!(err.is_fatal());
    assert!(err.to_string().contains("disk on fire"));
}

#[test]
fn reads_a_stream_delivered_in_tiny_pieces() {
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let bytes = common::synthetic_trace(100_000, 2);
    let whole: Vec<_> = TraceReader::new(&bytes[..]).collect::<Result<_, _>>().expect("clean");
    let trickled: Vec<_> = TraceReader::new(Trickle(&bytes)).collect::<Result<_, _>>().expect("clean");
    assert_eq!(whole, trickled);
}
