//! Calling from the aligner's output stream: records arrive in coordinate order as they are
//! written to the BAM, and each calling chunk is called as soon as no later record can reach
//! it — no reading back of the BAM.
//!
//! A chunk needs every read overlapping `[lead_start, end + TAIL)` (the reads
//! [`crate::pipeline::source::ReadSource::fetch`] would give). Once a read starting at or after
//! `end + TAIL` on its contig (or on a later contig) has arrived, none can follow, so the
//! chunk is ready. Ready chunks are called in waves of `threads × 4` on the thread pool, exactly
//! as `genoa call` calls them from an indexed BAM, so the records are the same. Reads are kept
//! only while a pending chunk can still use them, and when they exceed the memory budget
//! (`--max-memory`, at most 64 MiB per worker: [`crate::pipeline::config::caller_budget`]),
//! ready chunks are called without waiting for a full wave (the records do
//! not depend on how chunks are grouped into waves).

use std::collections::VecDeque;

use crate::backend::Backend;
use crate::call::CallParams;
use crate::call::regions::{self, Chunk, TAIL};
use crate::error::Result;
use crate::io::reference::Reference;
use crate::model::alignment::AlignedRead;
use crate::pipeline::calling::{CallOutput, CallSummary};

/// Calls chunks from reads pushed in coordinate order.
pub struct StreamCaller<'a> {
    reference: &'a Reference,
    params: &'a CallParams,
    backend: &'a dyn Backend,
    chunks: Vec<Chunk>,
    /// First chunk not yet called.
    next: usize,
    /// Reads of contig `contig` that a pending chunk may still use, in coordinate order.
    buf: VecDeque<AlignedRead>,
    contig: usize,
    wave: usize,
    /// Approximate bytes held in `buf`, and the most it should hold.
    buf_bytes: usize,
    budget: usize,
    out: CallOutput,
    /// Reads are downsampled on the way in (see [`crate::call::downsample`]).
    down: crate::call::downsample::StreamDownsampler,
}

/// Approximate heap and inline bytes of a buffered read.
fn read_bytes(r: &AlignedRead) -> usize {
    std::mem::size_of::<AlignedRead>()
        + r.name.len()
        + r.seq.len()
        + r.qual.len()
        + r.md.len()
        + 8 * r.cigar.0.len()
        + r.mate_cigar.as_ref().map_or(0, String::len)
        + r.sa.as_ref().map_or(0, String::len)
}

impl<'a> StreamCaller<'a> {
    /// Calls every chunk of the genome into `out`, in waves sized for `threads`, holding
    /// about `budget` bytes of reads at most (beyond what one chunk needs).
    pub fn new(
        reference: &'a Reference,
        targets: Option<&[crate::model::Interval]>,
        params: &'a CallParams,
        backend: &'a dyn Backend,
        out: CallOutput,
        threads: usize,
        budget: usize,
    ) -> Self {
        let lens: Vec<u64> = reference.contigs.iter().map(|c| c.len()).collect();
        StreamCaller {
            reference,
            params,
            backend,
            chunks: regions::chunks(
                &lens,
                params.ploidy.targets(&lens, targets).as_deref(),
                params.chunk_len,
            ),
            next: 0,
            buf: VecDeque::new(),
            contig: 0,
            wave: threads.max(1) * 4,
            buf_bytes: 0,
            budget,
            out,
            down: Default::default(),
        }
    }

    /// Takes the next read (placed, in coordinate order after the previous one); it reaches
    /// the chunks when its downsampling window is complete.
    pub fn push(&mut self, read: AlignedRead) -> Result<()> {
        let mut down = std::mem::take(&mut self.down);
        let params = self.params;
        let caps =
            |c: u32| crate::call::downsample::Caps::of(params.ploidy.contig(c as usize).model);
        let r = down.push(read, params.min_mapq, caps, |r| self.take(r));
        self.down = down;
        r
    }

    /// Takes the next read that stayed.
    fn take(&mut self, read: AlignedRead) -> Result<()> {
        let Some(c) = read.contig.map(|c| c as usize) else {
            return Ok(());
        };
        let pos = read.pos;
        if c != self.contig {
            // Every chunk of the contigs before `c` is ready.
            self.call_ready(|ch| ch.contig < c, 1)?;
            self.buf.clear();
            self.buf_bytes = 0;
            self.contig = c;
        } else {
            let min = if self.buf_bytes > self.budget {
                1
            } else {
                self.wave
            };
            self.call_ready(|ch| ch.contig < c || ch.end + TAIL <= pos, min)?;
        }
        self.buf_bytes += read_bytes(&read);
        self.buf.push_back(read);
        Ok(())
    }

    /// Calls the chunks left and finishes the output.
    pub fn finish(mut self) -> Result<(CallSummary, Option<crate::report::qc::QcCounts>)> {
        let mut down = std::mem::take(&mut self.down);
        down.flush(self.params.min_mapq, |r| self.take(r))?;
        self.call_ready(|_| true, 1)?;
        self.out.finish(self.reference)
    }

    /// Calls the pending chunks for which `ready` holds (a prefix of them), in waves, once at
    /// least `min` are ready.
    fn call_ready(&mut self, ready: impl Fn(&Chunk) -> bool, min: usize) -> Result<()> {
        let n = self.chunks[self.next..]
            .iter()
            .take_while(|ch| ready(ch))
            .count();
        if n == 0 || n < min {
            return Ok(());
        }
        let end = self.next + n;
        while self.next < end {
            let upto = (self.next + self.wave).min(end);
            let group = &self.chunks[self.next..upto];
            let (buf, contig) = (&self.buf, self.contig);
            self.out.call_wave(
                self.reference,
                group,
                self.params,
                self.backend,
                |chunk, reads| {
                    if chunk.contig == contig {
                        let (lo, hi) = (chunk.lead_start(), chunk.end + TAIL);
                        reads.extend(
                            buf.iter()
                                .take_while(|r| r.pos < hi)
                                .filter(|r| r.end() > lo)
                                .cloned(),
                        );
                    }
                    Ok(())
                },
            )?;
            self.next = upto;
        }
        // Drop the reads no pending chunk can use.
        match self.chunks.get(self.next) {
            Some(ch) if ch.contig == self.contig => {
                let lo = ch.lead_start();
                while self.buf.front().is_some_and(|r| r.end() <= lo) {
                    if let Some(r) = self.buf.pop_front() {
                        self.buf_bytes -= read_bytes(&r);
                    }
                }
            }
            _ => {
                self.buf.clear();
                self.buf_bytes = 0;
            }
        }
        Ok(())
    }
}
