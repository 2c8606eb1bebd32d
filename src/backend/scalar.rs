//! The scalar backend: plain loops, no `unsafe`, the specification of every kernel. Batches are
//! split into fixed-size chunks run on rayon's pool and concatenated in order, so the result
//! does not depend on the thread count.

pub mod banded_align;

use crate::backend::{Backend, run_chunked};
use crate::error::Result;
use crate::kernel::banded_align::{AlignBatch, AlignParams, AlignResults};

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
}
