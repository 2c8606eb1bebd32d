//! The SAM header genoa writes: `@HD SO:coordinate`, `@SQ` with `LN` and `M5`, `@RG`, `@PG`,
//! and a `@CO seqcol:` line with the reference's Sequence Collections digest.

use std::num::NonZero;

use noodles::sam::{
    self,
    header::record::value::{
        Map,
        map::{
            self, Program, ReadGroup, ReferenceSequence,
            header::{Version, sort_order, tag as hd_tag},
            program::tag as pg_tag,
            reference_sequence::tag as sq_tag,
        },
    },
};

use crate::error::{Error, Result};
use crate::io::reference::Reference;

/// A read group parsed from a samtools-style `@RG\tID:x\tSM:y\t…` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadGroupLine {
    pub id: String,
    pub sample: String,
    /// Other tags in their order: (two-letter tag, value).
    pub other: Vec<(String, String)>,
}

impl ReadGroupLine {
    /// A read group with `ID` and `SM` equal to the sample name.
    pub fn for_sample(sample: &str) -> Self {
        ReadGroupLine {
            id: sample.to_string(),
            sample: sample.to_string(),
            other: vec![("PL".to_string(), "ILLUMINA".to_string())],
        }
    }

    /// The value of tag `tag` (not ID or SM), if the line has it.
    pub fn tag(&self, tag: &str) -> Option<&str> {
        self.other
            .iter()
            .find(|(t, _)| t == tag)
            .map(|(_, v)| v.as_str())
    }

    /// The `@RG` line (tab-separated).
    pub fn to_line(&self) -> String {
        let mut line = format!("@RG\tID:{}\tSM:{}", self.id, self.sample);
        for (tag, value) in &self.other {
            line.push_str(&format!("\t{tag}:{value}"));
        }
        line
    }

    /// Parses `@RG\tID:..\tSM:..` (tabs may be written as the two characters `\t`).
    pub fn parse(line: &str) -> Result<Self> {
        let line = line.replace("\\t", "\t");
        let mut fields = line.split('\t');
        if fields.next() != Some("@RG") {
            return Err(Error::Config(format!(
                "read group {line:?}: must start with @RG"
            )));
        }
        let (mut id, mut sample, mut other) = (None, None, Vec::new());
        for f in fields.filter(|f| !f.is_empty()) {
            let (tag, value) =
                f.split_once(':')
                    .filter(|(t, _)| t.len() == 2)
                    .ok_or_else(|| {
                        Error::Config(format!("read group field {f:?}: expected TAG:VALUE"))
                    })?;
            match tag {
                "ID" => id = Some(value.to_string()),
                "SM" => sample = Some(value.to_string()),
                _ => other.push((tag.to_string(), value.to_string())),
            }
        }
        match (id, sample) {
            (Some(id), Some(sample)) if !id.is_empty() && !sample.is_empty() => {
                Ok(ReadGroupLine { id, sample, other })
            }
            _ => Err(Error::Config(format!(
                "read group {line:?}: needs ID and SM"
            ))),
        }
    }
}

/// Builds the header of an aligned, coordinate-sorted file with read groups `rgs` (one per
/// lane, in lane order).
pub fn build(
    reference: &Reference,
    rgs: &[ReadGroupLine],
    command_line: &str,
) -> Result<sam::Header> {
    let bad = |e: Box<dyn std::error::Error>| Error::Config(format!("SAM header: {e}"));
    let hd = Map::<map::Header>::builder()
        .set_version(Version::new(1, 6))
        .insert(hd_tag::SORT_ORDER, sort_order::COORDINATE)
        .build()
        .map_err(|e| bad(e.into()))?;
    let mut builder = sam::Header::builder().set_header(hd);
    for c in &reference.contigs {
        let len = NonZero::new(c.len() as usize)
            .ok_or_else(|| Error::input(&reference.path, format!("contig {}: empty", c.name)))?;
        let sq = Map::<ReferenceSequence>::builder()
            .set_length(len)
            .insert(sq_tag::MD5_CHECKSUM, c.md5.clone())
            .build()
            .map_err(|e| bad(e.into()))?;
        builder = builder.add_reference_sequence(c.name.clone(), sq);
    }
    for rg in rgs {
        let mut rg_map =
            Map::<ReadGroup>::builder().insert(map::read_group::tag::SAMPLE, rg.sample.clone());
        for (tag, value) in &rg.other {
            let t: [u8; 2] = tag
                .as_bytes()
                .try_into()
                .map_err(|_| Error::Config(format!("read group tag {tag:?}")))?;
            let t = map::tag::Other::try_from(t).map_err(|_| {
                Error::Config(format!("read group tag {tag:?}: reserved or invalid"))
            })?;
            rg_map = rg_map.insert(t, value.clone());
        }
        let rg_map = rg_map.build().map_err(|e| bad(e.into()))?;
        builder = builder.add_read_group(rg.id.clone(), rg_map);
    }
    let pg = Map::<Program>::builder()
        .insert(pg_tag::NAME, "genoa")
        .insert(pg_tag::VERSION, env!("CARGO_PKG_VERSION"))
        .insert(
            pg_tag::COMMAND_LINE,
            // A SAM header field holds no tab or line break.
            command_line.replace(['\t', '\n', '\r'], " "),
        )
        .build()
        .map_err(|e| bad(e.into()))?;
    Ok(builder
        .add_program("genoa", pg)
        // SAM has no tag for refget or seqcol digests yet (hts-specs#824): the reference's
        // GA4GH Sequence Collections level-0 digest goes in a comment, beside @SQ M5.
        .add_comment(format!(
            "seqcol:{} (GA4GH Sequence Collections level-0 digest of the reference: names and sequences; `genoa refid` prints each contig's refget digest)",
            reference.seqcol_level0()
        ))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_group_lines_parse() {
        let rg = ReadGroupLine::parse("@RG\\tID:lane1\\tSM:NA12878\\tPL:ILLUMINA").unwrap();
        assert_eq!(rg.id, "lane1");
        assert_eq!(rg.sample, "NA12878");
        assert_eq!(rg.other, vec![("PL".into(), "ILLUMINA".into())]);
        assert!(ReadGroupLine::parse("@RG\tID:x").is_err());
        assert!(ReadGroupLine::parse("ID:x\tSM:y").is_err());
    }
}
