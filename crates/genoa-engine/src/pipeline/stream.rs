//! Calling from the aligner's output stream: records arrive in coordinate order as they are
//! written to the BAM, and each calling chunk is called as soon as no later record can reach
//! it — no reading back of the BAM.
//!
//! A chunk needs every read overlapping `[lead_start, end + TAIL)` (the reads
//! [`crate::pipeline::source::ReadSource::fetch`] would give). Once a read starting at or after
//! `end + TAIL` on its contig (or on a later contig) has arrived, none can follow, so the
//! chunk is ready. A ready chunk goes at once to the [`ChunkQueue`] (called on the pool beside
//! the others, written in order), exactly as `genoa call` calls it from an indexed BAM, so the
//! records are the same; the thread pushing reads never waits for a wave, only when the chunks
//! in flight hold `threads × 4` chunks or more than the memory budget (`--max-memory`, at most
//! 64 MiB per worker: [`crate::pipeline::config::caller_budget`]) of reads. Reads are kept
//! only while a pending chunk can still use them; a chunk in flight shares them (reference
//! counted) until its task copies them.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::call::CallParams;
use crate::call::regions::{self, Chunk, TAIL};
use crate::error::Result;
use crate::io::reference::Reference;
use crate::model::alignment::AlignedRead;
use crate::pipeline::calling::{CallSummary, ChunkQueue};

/// Calls chunks from reads pushed in coordinate order.
pub struct StreamCaller<'a, 's> {
    reference: &'s Reference,
    params: &'s CallParams,
    chunks: Vec<Chunk>,
    /// First chunk not yet called.
    next: usize,
    /// Reads of contig `contig` that a pending chunk may still use, in coordinate order.
    buf: VecDeque<Arc<AlignedRead>>,
    contig: usize,
    queue: ChunkQueue<'a, 's>,
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

impl<'a, 's> StreamCaller<'a, 's> {
    /// Calls every chunk of the genome (or of `targets`) through `queue`.
    pub fn new(queue: ChunkQueue<'a, 's>, targets: Option<&[crate::model::Interval]>) -> Self {
        let (reference, params) = (queue.reference(), queue.params());
        let lens: Vec<u64> = reference.contigs.iter().map(|c| c.len()).collect();
        StreamCaller {
            reference,
            params,
            chunks: regions::chunks(
                &lens,
                params.ploidy.targets(&lens, targets).as_deref(),
                params.chunk_len,
            ),
            next: 0,
            buf: VecDeque::new(),
            contig: 0,
            queue,
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
            self.call_ready(|ch| ch.contig < c)?;
            self.buf.clear();
            self.contig = c;
        } else {
            // A chunk of a later contig is not ready, however far along this one the read is.
            self.call_ready(|ch| ch.contig < c || (ch.contig == c && ch.end + TAIL <= pos))?;
        }
        self.buf.push_back(Arc::new(read));
        Ok(())
    }

    /// Calls the chunks left and finishes the output.
    pub fn finish(mut self) -> Result<(CallSummary, Option<crate::report::qc::QcCounts>)> {
        let mut down = std::mem::take(&mut self.down);
        down.flush(self.params.min_mapq, |r| self.take(r))?;
        self.call_ready(|_| true)?;
        let reference = self.reference;
        self.queue.finish()?.finish(reference)
    }

    /// Submits the pending chunks for which `ready` holds (a prefix of them), each with the
    /// buffered reads it needs, then drops the reads no pending chunk can use.
    fn call_ready(&mut self, ready: impl Fn(&Chunk) -> bool) -> Result<()> {
        while let Some(chunk) = self.chunks.get(self.next).filter(|ch| ready(ch)) {
            let chunk = chunk.clone();
            self.next += 1;
            let mut reads = Vec::new();
            let mut bytes = 0;
            if chunk.contig == self.contig {
                let (lo, hi) = (chunk.lead_start(), chunk.end + TAIL);
                for r in self.buf.iter().take_while(|r| r.pos < hi) {
                    if r.end() > lo {
                        bytes += read_bytes(r);
                        reads.push(r.clone());
                    }
                }
            }
            self.queue.submit_holding(chunk, bytes, move |out| {
                out.extend(reads.iter().map(|r| AlignedRead::clone(r)));
                Ok(())
            })?;
        }
        match self.chunks.get(self.next) {
            Some(ch) if ch.contig == self.contig => {
                let lo = ch.lead_start();
                while self.buf.front().is_some_and(|r| r.end() <= lo) {
                    self.buf.pop_front();
                }
            }
            _ => self.buf.clear(),
        }
        Ok(())
    }
}
