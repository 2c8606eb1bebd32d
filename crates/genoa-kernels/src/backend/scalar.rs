//! The scalar backend: plain loops, no `unsafe`, the specification of every kernel. Batches are
//! split into fixed-size chunks run on rayon's pool and concatenated in order, so the result
//! does not depend on the thread count.

pub mod banded_align;
pub mod pair_hmm;

use crate::backend::{Backend, run_chunked, run_hmm_chunked};
use crate::error::Result;
use crate::kernel::banded_align::{AlignBatch, AlignParams, AlignResults};
use crate::kernel::pair_hmm::{HmmBatch, HmmResults};

/// The scalar backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scalar;

impl Backend for Scalar {
    fn name(&self) -> String {
        "scalar".to_string()
    }

    fn banded_align(
        &self,
        batch: &AlignBatch,
        params: &AlignParams,
        out: &mut AlignResults,
    ) -> Result<()> {
        run_chunked(batch, params, out, |chunk| {
            let mut part = AlignResults::default();
            let mut scratch = banded_align::Scratch::default();
            for pair in chunk {
                let r = banded_align::align_one(
                    batch.query(pair),
                    batch.target(pair),
                    pair.diagonal,
                    params,
                    &mut scratch,
                    &mut part.cigar,
                );
                part.results.push(r);
            }
            part
        })
    }

    fn pair_hmm(&self, batch: &HmmBatch, out: &mut HmmResults) -> Result<()> {
        run_hmm_chunked(batch, out, |coefs, task, values| {
            let mut scratch = pair_hmm::Scratch::default();
            let hap = batch.hap(task.hap);
            for r in task.reads.0..task.reads.1 {
                let res = pair_hmm::forward(batch.read_coefs(coefs, r), hap, &mut scratch);
                values.push(res.log10(hap.len() as u32));
            }
        })
    }
}
