//! Building a contig's gVCF records ([`crate::model::gvcf`]) as GATK `-ERC GVCF` does:
//! consecutive reference sites of one GQ band merged into blocks (`END`, `MIN_DP`, median `DP`,
//! `GQ`, minimum `PL`) between the variant records.

use crate::call::CallParams;
use crate::model::gvcf::{Block, Genotyped, Record, Variant};

/// Builds the record list of one contig from sites handed in position order.
pub struct BlockBuilder<'a> {
    params: &'a CallParams,
    records: Vec<Record>,
    open: Option<(Block, usize)>,
    depths: Vec<u32>,
}

impl<'a> BlockBuilder<'a> {
    pub fn new(params: &'a CallParams) -> Self {
        BlockBuilder {
            params,
            records: Vec::new(),
            open: None,
            depths: Vec::new(),
        }
    }

    fn band(&self, gq: u32) -> usize {
        self.params.gq_bands.partition_point(|&b| b <= gq)
    }

    fn close(&mut self) {
        if let Some((mut block, band)) = self.open.take() {
            if self.params.reblock {
                // ReblockGVCF's --floor-blocks: the band's lower bound.
                block.gq = band.checked_sub(1).map_or(0, |b| self.params.gq_bands[b]);
            }
            self.depths.sort_unstable();
            block.median_dp = self.depths[(self.depths.len() - 1) / 2];
            self.depths.clear();
            self.records.push(Record::Block(block));
        }
    }

    /// Adds a reference site at `pos`.
    pub fn push_reference(&mut self, pos: u64, g: &Genotyped, dp: u32) {
        let band = self.band(g.gq);
        let extend = match &self.open {
            Some((b, open_band)) => {
                *open_band == band
                    && b.end + 1 == pos
                    && b.ploidy == g.ploidy
                    && b.end + 1 - b.start < self.params.max_block_len
            }
            None => false,
        };
        if !extend {
            self.close();
            self.open = Some((
                Block {
                    start: pos,
                    end: pos,
                    gq: g.gq,
                    min_dp: dp,
                    median_dp: 0,
                    ploidy: g.ploidy,
                    pl: [g.pl[0], g.pl[1], g.pl.get(2).copied().unwrap_or(0)],
                },
                band,
            ));
        } else if let Some((b, _)) = &mut self.open {
            b.end = pos;
            b.gq = b.gq.min(g.gq);
            b.min_dp = b.min_dp.min(dp);
            for (k, &p) in g.pl.iter().enumerate().take(3) {
                b.pl[k] = b.pl[k].min(p);
            }
        }
        self.depths.push(dp);
    }

    /// Adds a variant record (it interrupts any open block).
    pub fn push_variant(&mut self, v: Variant) {
        self.close();
        self.records.push(Record::Variant(v));
    }

    /// The records, the last block closed.
    pub fn finish(mut self) -> Vec<Record> {
        self.close();
        self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(gq: u32, dp: u32) -> Genotyped {
        Genotyped {
            gt: [0, 0],
            ploidy: 2,
            qual: 0.0,
            gq,
            pl: vec![0, gq, gq * 2],
            ad: vec![dp, 0],
            dp,
        }
    }

    #[test]
    fn blocks_follow_bands_and_cap() {
        let params = CallParams {
            max_block_len: 3,
            ..CallParams::default()
        };
        let mut b = BlockBuilder::new(&params);
        for (pos, gq) in [(0, 99), (1, 99), (2, 99), (3, 99), (4, 65), (5, 62)] {
            b.push_reference(pos, &site(gq, 10 + pos as u32), 10 + pos as u32);
        }
        let recs = b.finish();
        let spans: Vec<_> = recs
            .iter()
            .map(|r| match r {
                Record::Block(b) => (b.start, b.end, b.gq, b.min_dp, b.median_dp),
                Record::Variant(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            spans,
            vec![(0, 2, 99, 10, 11), (3, 3, 99, 13, 13), (4, 5, 62, 14, 14)]
        );
    }

    #[test]
    fn reblock_floors_block_gq_to_the_band() {
        let params = CallParams {
            gq_bands: crate::model::gvcf::gq_band_preset("reblock").unwrap(),
            reblock: true,
            ..CallParams::default()
        };
        let mut b = BlockBuilder::new(&params);
        for (pos, gq) in [(0, 27), (1, 25), (2, 45), (3, 99), (4, 12), (5, 3)] {
            b.push_reference(pos, &site(gq, 10), 10);
        }
        let gqs: Vec<(u64, u64, u32)> = b
            .finish()
            .iter()
            .map(|r| match r {
                Record::Block(b) => (b.start, b.end, b.gq),
                Record::Variant(_) => unreachable!(),
            })
            .collect();
        assert_eq!(gqs, vec![(0, 1, 20), (2, 3, 40), (4, 5, 0)]);
    }
}
