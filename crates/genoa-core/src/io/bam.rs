//! BAM: the index beside a BAM (`.bai`, or `.csi` when a contig is longer than 2^29 bp, which
//! BAI cannot address), reading an indexed BAM region by region, and the contig checks every
//! input BAM or CRAM passes. Records are encoded in [`writer`]; files are written through
//! [`crate::io::sink`].

use std::path::{Path, PathBuf};

use noodles::bam;
use noodles::core::Position;
use noodles::csi::BinningIndex as _;
use noodles::sam::{
    self,
    alignment::record::{
        cigar::{Op, op::Kind},
        data::field::Tag,
    },
    alignment::record_buf::data::field::Value,
};

use crate::error::{Error, Result};
use crate::genome::{Cigar, CigarOp};
use crate::io::atomic::Pending;
use crate::model::alignment::{AlignedRead, Flags};

pub mod writer;

/// Largest reference length a BAI index can address.
pub const BAI_MAX_LEN: u64 = 1 << 29;

/// Path of the index beside `bam`: `.bai`, or `.csi` for long contigs.
pub fn index_path(bam: &Path, max_contig_len: u64) -> PathBuf {
    crate::io::with_suffix(
        bam,
        if max_contig_len > BAI_MAX_LEN {
            ".csi"
        } else {
            ".bai"
        },
    )
}

/// Writes a built index to `index`'s temporary path.
pub fn write_index(index: &Pending, built: bam::Index) -> Result<()> {
    use std::io::Write;
    let index_err = |e| Error::io(index.path(), e);
    let file = index.create()?;
    match built {
        bam::Index::Bai(bai) => {
            let mut w = noodles::bam::bai::io::Writer::new(std::io::BufWriter::new(file));
            w.write_index(&bai).map_err(index_err)?;
            w.get_mut().flush().map_err(index_err)
        }
        bam::Index::Csi(csi) => {
            let mut w = noodles::csi::io::Writer::new(file);
            w.write_index(&csi).map_err(index_err)?;
            w.get_mut().try_finish().map_err(index_err)
        }
    }
}

/// Opens a BAM and reads its header.
fn open(
    path: &Path,
) -> Result<(
    bam::io::Reader<noodles::bgzf::io::Reader<std::fs::File>>,
    sam::Header,
)> {
    {
        use std::io::Read;
        let mut magic = [0u8; 4];
        let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let n = f.read(&mut magic).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Err(Error::input(path, "empty file: not a BAM"));
        }
        if n < 2 || magic[..2] != [0x1f, 0x8b] {
            return Err(Error::input(
                path,
                "not a BAM file: it is not BGZF-compressed (SAM text? `samtools view -b` makes a BAM)",
            ));
        }
    }
    let mut reader = bam::io::reader::Builder
        .build_from_path(path)
        .map_err(|e| Error::io(path, e))?;
    let header = reader.read_header().map_err(|e| {
        Error::input(
            path,
            format!(
                "not a readable BAM header: {}",
                crate::error::describe_io(&e)
            ),
        )
    })?;
    Ok((reader, header))
}

/// Appends a SAM CIGAR operation to genoa's CIGAR (`=`/`X` as matches, `N` as a deletion; hard
/// clips and padding dropped).
pub(crate) fn push_op(cigar: &mut Cigar, op: Op) {
    let len = op.len() as u32;
    match op.kind() {
        Kind::Match | Kind::SequenceMatch | Kind::SequenceMismatch => {
            cigar.push(CigarOp::Match, len)
        }
        Kind::Insertion => cigar.push(CigarOp::Ins, len),
        Kind::Deletion | Kind::Skip => cigar.push(CigarOp::Del, len),
        Kind::SoftClip => cigar.push(CigarOp::SoftClip, len),
        Kind::HardClip | Kind::Pad => {}
    }
}

/// Gives a caller's read what the QC coverage needs of its mate (`call::pileup`: a pair's
/// overlapping bases are counted once): the mate's 0-based position when it is on the read's
/// own contig and starts no later than the read, and then its CIGAR (`MC`). Other reads keep
/// no mate fields (nothing allocated for them).
pub(crate) fn set_overlapping_mate(
    read: &mut AlignedRead,
    same_contig: bool,
    mate_pos: Option<u64>,
    mate_cigar: impl FnOnce() -> Option<String>,
) {
    if let Some(mp) = mate_pos.filter(|&mp| same_contig && mp <= read.pos) {
        read.mate_contig = read.contig;
        read.mate_pos = mp;
        read.mate_cigar = mate_cigar();
    }
}

/// A mapped read of the caller's input on `contig` (index, length) at 0-based `pos`, checked:
/// the CIGAR, sequence and qualities agree and the alignment ends within the contig. Missing
/// qualities (`*`) become Q20 rather than trusting the bases fully. The error is a message.
pub(crate) fn placed_read(
    (contig, contig_len): (usize, u64),
    flags: Flags,
    pos: u64,
    mapq: u8,
    cigar: Cigar,
    seq: Vec<u8>,
    mut qual: Vec<u8>,
) -> std::result::Result<AlignedRead, String> {
    if qual.is_empty() || qual.iter().all(|&q| q == 0xff) {
        qual.clear();
        qual.resize(seq.len(), 20);
    }
    if cigar.query_len() as usize != seq.len() || qual.len() != seq.len() {
        return Err(format!(
            "CIGAR covers {} bases, the read has {} and {} qualities",
            cigar.query_len(),
            seq.len(),
            qual.len()
        ));
    }
    if pos + u64::from(cigar.reference_len()) > contig_len {
        return Err(format!(
            "alignment runs past the end of its {contig_len}-bp contig"
        ));
    }
    Ok(AlignedRead {
        name: String::new(),
        flags,
        contig: Some(contig as u32),
        pos,
        mapq,
        cigar,
        mate_contig: None,
        mate_pos: 0,
        tlen: 0,
        seq,
        qual,
        nm: 0,
        md: String::new(),
        mate_cigar: None,
        sa: None,
        xa: None,
    })
}

/// Maps the header's reference ids to `reference`'s contig indexes. Every `@SQ` must name a
/// contig of `reference` with the same length (and the same MD5 where the header has one).
pub(crate) fn contig_map(
    path: &Path,
    header: &sam::Header,
    reference: &crate::io::reference::Reference,
) -> Result<Vec<u32>> {
    use noodles::sam::header::record::value::map::reference_sequence::tag::MD5_CHECKSUM;
    // Without contigs no record can be placed, and every region would read as empty: a gVCF
    // of no coverage from a damaged header (found by fuzzing: a CRAM whose `@HD` line had
    // swallowed its `@SQ` line gave `genoa call` 0 reads and exit 0).
    if header.reference_sequences().is_empty() {
        return Err(Error::input(
            path,
            "the header lists no contigs (no @SQ lines): not an aligned file, or its header is damaged",
        ));
    }
    let mut id_map = Vec::with_capacity(header.reference_sequences().len());
    for (name, sq) in header.reference_sequences() {
        let name = name.to_string();
        let idx = reference.contig_index(&name).ok_or_else(|| {
            Error::input(
                path,
                format!(
                    "contig {name} is not in the reference {}",
                    reference.path.display()
                ),
            )
        })?;
        let contig = &reference.contigs[idx];
        if sq.length().get() as u64 != contig.len() {
            return Err(Error::input(
                path,
                format!(
                    "contig {name}: length {} in the header but {} in the reference",
                    sq.length(),
                    contig.len()
                ),
            ));
        }
        if let Some(m5) = sq.other_fields().get(&MD5_CHECKSUM)
            && !m5.to_string().eq_ignore_ascii_case(&contig.md5)
        {
            return Err(Error::input(
                path,
                format!(
                    "contig {name}: M5 {m5} differs from the reference's {}",
                    contig.md5
                ),
            ));
        }
        id_map.push(idx as u32);
    }
    Ok(id_map)
}

/// A coordinate-sorted, indexed BAM read region by region (the caller's input). The header
/// is checked against the reference once; the index is loaded once and shared; every fetch
/// opens its own reader, so chunks are fetched in parallel.
pub struct IndexedBam {
    path: PathBuf,
    header: sam::Header,
    index: BinIndex,
    /// Reference contig index → the BAM's reference id.
    bam_id: Vec<Option<usize>>,
    /// Reference contig lengths.
    lens: Vec<u64>,
}

enum BinIndex {
    Bai(bam::bai::Index),
    Csi(noodles::csi::Index),
}

impl IndexedBam {
    /// Opens `path` and its index (`path.bai`, `path.csi`, or the `.bai` that replaces
    /// `.bam`). A BAM without an index is an error saying how to make one.
    pub fn open(path: &Path, reference: &crate::io::reference::Reference) -> Result<IndexedBam> {
        let (_, header) = open(path)?;
        let id_map = contig_map(path, &header, reference)?;
        let mut bam_id = vec![None; reference.contigs.len()];
        for (id, &c) in id_map.iter().enumerate() {
            bam_id[c as usize] = Some(id);
        }
        let candidates = [
            crate::io::with_suffix(path, ".bai"),
            crate::io::with_suffix(path, ".csi"),
            path.with_extension("bai"),
        ];
        let found = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
            Error::input(
                path,
                "no index (.bai or .csi) beside it; make one with `samtools index`",
            )
        })?;
        let bad_index = |e: std::io::Error| {
            Error::input(
                found,
                format!(
                    "not a readable BAM index: {}",
                    crate::error::describe_io(&e)
                ),
            )
        };
        crate::io::binning_index::check(found, "BAM index")?;
        let index = if found.extension().is_some_and(|e| e == "csi") {
            BinIndex::Csi(noodles::csi::fs::read(found).map_err(bad_index)?)
        } else {
            BinIndex::Bai(bam::bai::fs::read(found).map_err(bad_index)?)
        };
        // An index older than its BAM may describe another file, or the two were copied in
        // that order: warn (as htslib does) rather than refuse. A wrong index mostly shows up
        // as unreadable or out-of-order records, which `fetch` reports as errors.
        let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        if let (Some(b), Some(i)) = (mtime(path), mtime(found))
            && i + std::time::Duration::from_secs(1) < b
        {
            tracing::warn!(
                "{} is older than {}; if the BAM was rewritten, re-index it with `samtools index`",
                found.display(),
                path.display()
            );
        }
        Ok(IndexedBam {
            path: path.to_path_buf(),
            header,
            index,
            bam_id,
            lens: reference.contigs.iter().map(|c| c.len()).collect(),
        })
    }

    /// The BAM's header.
    pub fn header(&self) -> &sam::Header {
        &self.header
    }

    /// Appends to `out` every record placed on reference contig `contig` that overlaps
    /// `[start, end)` (0-based), in file (coordinate) order.
    pub fn fetch(
        &self,
        contig: usize,
        start: u64,
        end: u64,
        out: &mut Vec<AlignedRead>,
    ) -> Result<()> {
        let Some(id) = self.bam_id.get(contig).copied().flatten() else {
            return Ok(()); // the BAM has no reads on a contig its header does not list
        };
        let name = self
            .header
            .reference_sequences()
            .get_index(id)
            .map(|(n, _)| n.clone());
        let Some(name) = name else { return Ok(()) };
        let (Some(beg), Some(last)) = (
            Position::new(start as usize + 1),
            Position::new(end.max(start + 1) as usize),
        ) else {
            return Ok(());
        };
        let region = noodles::core::Region::new(name.clone(), beg..=last);
        let (mut reader, _) = open(&self.path)?;
        let io_err = |e: std::io::Error| {
            Error::input(
                &self.path,
                format!(
                    "reading {name}:{}-{}: {}",
                    start + 1,
                    end,
                    crate::error::describe_io(&e)
                ),
            )
        };
        // A damaged index can point into the middle of a record, whose bytes noodles reads as a
        // `block_size` and allocates (up to 4 GiB, zeroed) before it fails: each chunk the query
        // reads must start at a record of this reference (found by fuzzing: a 120-byte .bai
        // made genoa call take 4.1 GB and 5 s).
        let chunks = match &self.index {
            BinIndex::Bai(i) => i.query(id, region.interval()),
            BinIndex::Csi(i) => i.query(id, region.interval()),
        }
        .map_err(io_err)?;
        for chunk in &chunks {
            if let Some(why) = record_start(reader.get_mut(), chunk.start(), id).map_err(io_err)? {
                return Err(Error::input(
                    &self.path,
                    format!(
                        "reading {name}:{}-{}: the index points at {why}: it belongs to another file or an older version of it, or is damaged (rebuild the index)",
                        start + 1,
                        end
                    ),
                ));
            }
        }
        let query: Box<dyn Iterator<Item = std::io::Result<bam::Record>>> = match &self.index {
            BinIndex::Bai(i) => Box::new(
                reader
                    .query(&self.header, i, &region)
                    .map_err(io_err)?
                    .records(),
            ),
            BinIndex::Csi(i) => Box::new(
                reader
                    .query(&self.header, i, &region)
                    .map_err(io_err)?
                    .records(),
            ),
        };
        let mut last_pos = 0u64;
        for rec in query {
            let rec = rec.map_err(io_err)?;
            let pos = match rec.alignment_start() {
                Some(p) => usize::from(p.map_err(io_err)?) as u64 - 1,
                None => continue,
            };
            let rec_err = |message: String| {
                Error::input(
                    &self.path,
                    format!(
                        "record {} at {name}:{}: {message}",
                        rec.name().map(|n| n.to_string()).unwrap_or_default(),
                        pos + 1
                    ),
                )
            };
            if pos < last_pos {
                return Err(rec_err("records are not sorted by coordinate".into()));
            }
            last_pos = pos;
            let mut cigar = Cigar::default();
            for op in rec.cigar().iter() {
                push_op(&mut cigar, op.map_err(|e| rec_err(e.to_string()))?);
            }
            let flags = rec.flags();
            // Unplaced reads, and secondary records (which the caller never uses, and which
            // aligners write without SEQ), are skipped; so is any record without SEQ.
            if flags.intersects(Flags::UNMAPPED | Flags::SECONDARY) || rec.sequence().is_empty() {
                continue;
            }
            let mut read = placed_read(
                (contig, self.lens[contig]),
                flags,
                pos,
                rec.mapping_quality().map_or(255, u8::from),
                cigar,
                rec.sequence().iter().collect(),
                rec.quality_scores().as_ref().to_vec(),
            )
            .map_err(rec_err)?;
            let same_contig = matches!(
                (rec.reference_sequence_id(), rec.mate_reference_sequence_id()),
                (Some(Ok(a)), Some(Ok(b))) if a == b
            );
            let mate_pos = match rec.mate_alignment_start() {
                Some(Ok(p)) => Some(usize::from(p) as u64 - 1),
                _ => None,
            };
            set_overlapping_mate(&mut read, same_contig, mate_pos, || {
                match rec.data().get(&Tag::MATE_CIGAR) {
                    Some(Ok(noodles::sam::alignment::record::data::field::Value::String(s))) => {
                        Some(String::from_utf8_lossy(s).into_owned())
                    }
                    _ => None,
                }
            });
            out.push(read);
        }
        Ok(())
    }
}

/// The largest record genoa reads (a BAM record's `block_size`): far above any short or long
/// read's, far below the 4 GiB a damaged size asks for.
const MAX_RECORD: u32 = 1 << 28;

/// Whether `at` is the start of a record on reference `id`; if not, what is there instead.
fn record_start(
    reader: &mut noodles::bgzf::io::Reader<std::fs::File>,
    at: noodles::bgzf::VirtualPosition,
    id: usize,
) -> std::io::Result<Option<String>> {
    use std::io::Read;
    reader.seek(at)?;
    let mut head = [0u8; 8];
    reader.read_exact(&mut head)?;
    let block_size = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let ref_id = i32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    Ok(if !(32..=MAX_RECORD).contains(&block_size) {
        Some(format!("a record of {block_size} bytes"))
    } else if usize::try_from(ref_id).ok() != Some(id) {
        Some(format!("a record of reference {ref_id}, not {id}"))
    } else {
        None
    })
}

/// Reads an aligned BAM into genoa records. Every `@SQ` must name a contig of `reference` with
/// the same length (and the same MD5 where the header carries one); records must be in
/// coordinate order.
pub fn read(path: &Path, reference: &crate::io::reference::Reference) -> Result<Vec<AlignedRead>> {
    let (mut reader, header) = open(path)?;
    let id_map = contig_map(path, &header, reference)?;
    let mut out = Vec::new();
    let mut last = (0usize, 0u64);
    for (n, result) in reader.record_bufs(&header).enumerate() {
        let rec_err = |message: String| Error::Record {
            path: path.to_path_buf(),
            record: n as u64 + 1,
            line: None,
            message,
        };
        let rec = result.map_err(|e| rec_err(e.to_string()))?;
        let contig = rec
            .reference_sequence_id()
            .map(|i| {
                id_map
                    .get(i)
                    .copied()
                    .ok_or_else(|| rec_err(format!("reference id {i} not in the header")))
            })
            .transpose()?;
        let mate_contig = rec
            .mate_reference_sequence_id()
            .and_then(|i| id_map.get(i).copied());
        let pos = rec
            .alignment_start()
            .map_or(0, |p| usize::from(p) as u64 - 1);
        // Sorted in the BAM's own @SQ order, which may differ from the reference's.
        if let Some(id) = rec.reference_sequence_id() {
            if (id, pos) < last {
                return Err(rec_err("records are not sorted by coordinate".to_string()));
            }
            last = (id, pos);
        }
        let mut cigar = Cigar::default();
        for &op in rec.cigar().as_ref() {
            push_op(&mut cigar, op);
        }
        let seq: Vec<u8> = rec.sequence().as_ref().to_vec();
        let mut qual: Vec<u8> = rec.quality_scores().as_ref().to_vec();
        if qual.is_empty() {
            // Missing qualities (`*`): assume Q20 rather than trusting the bases fully.
            qual.resize(seq.len(), 20);
        }
        let flags = rec.flags();
        if !flags.intersects(Flags::UNMAPPED)
            && contig.is_some()
            && !seq.is_empty()
            && cigar.query_len() as usize != seq.len()
        {
            return Err(rec_err(format!(
                "CIGAR covers {} bases but the read has {}",
                cigar.query_len(),
                seq.len()
            )));
        }
        if let Some(c) = contig {
            let len = reference.contigs[c as usize].len();
            if pos + u64::from(cigar.reference_len()) > len {
                return Err(rec_err(format!(
                    "alignment runs past the end of its {len}-bp contig"
                )));
            }
        }
        if !seq.is_empty() && qual.len() != seq.len() {
            return Err(rec_err(format!(
                "quality length {} != sequence length {}",
                qual.len(),
                seq.len()
            )));
        }
        let data = rec.data();
        let text = |tag: Tag| match data.get(&tag) {
            Some(Value::String(v)) => Some(v.to_string()),
            _ => None,
        };
        let nm = data
            .get(&Tag::EDIT_DISTANCE)
            .and_then(|v| v.as_int())
            .map_or(0, |v| v.clamp(0, i64::from(u32::MAX)) as u32);
        out.push(AlignedRead {
            name: rec.name().map(|n| n.to_string()).unwrap_or_default(),
            flags,
            contig,
            pos,
            mapq: rec.mapping_quality().map_or(255, u8::from),
            cigar,
            mate_contig,
            mate_pos: rec
                .mate_alignment_start()
                .map_or(0, |p| usize::from(p) as u64 - 1),
            tlen: i64::from(rec.template_length()),
            seq,
            qual,
            nm,
            md: text(Tag::MISMATCHED_POSITIONS).unwrap_or_default(),
            mate_cigar: text(Tag::MATE_CIGAR),
            sa: text(Tag::OTHER_ALIGNMENTS),
            xa: text(Tag::new(b'X', b'A')),
        });
    }
    // Callers walk contigs in the reference's order: regroup when the header's order differs
    // (a stable sort keeps each contig's coordinate order; unplaced reads stay last).
    if !id_map.windows(2).all(|w| w[0] < w[1]) {
        out.sort_by_key(|r| r.contig.unwrap_or(u32::MAX));
    }
    Ok(out)
}

/// `SM` of the first read group of a SAM header, if any.
pub fn header_sample(header: &sam::Header) -> Option<String> {
    use noodles::sam::header::record::value::map::read_group::tag::SAMPLE;
    header
        .read_groups()
        .values()
        .find_map(|rg| rg.other_fields().get(&SAMPLE).map(|s| s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::reference::Reference;
    use crate::io::sam_header::{ReadGroupLine, build};
    use crate::io::sink::{AlignmentSink, BamSink};

    #[test]
    fn a_header_without_contigs_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("r.fa");
        std::fs::write(&fa, ">c1\nACGT\n").unwrap();
        let reference = Reference::load(&fa).unwrap();
        let e = contig_map(Path::new("x.cram"), &sam::Header::default(), &reference)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no @SQ lines"), "{e}");
    }

    /// Writes `records` (coordinate order) through the BAM sink.
    fn write(
        path: &Path,
        header: &sam::Header,
        records: &[AlignedRead],
        rg: &str,
        max_contig_len: u64,
    ) -> Result<()> {
        let mut sink = Box::new(BamSink::create(path, header, max_contig_len)?);
        let mut buf = Vec::new();
        for r in records {
            buf.clear();
            writer::encode_record(r, rg, &mut buf);
            sink.push(&buf)?;
        }
        sink.finish()
    }

    fn read(pos: u64, name: &str) -> AlignedRead {
        AlignedRead {
            name: name.into(),
            flags: Flags::empty(),
            contig: Some(0),
            pos,
            mapq: 60,
            cigar: Cigar(vec![(CigarOp::Match, 4)]),
            mate_contig: None,
            mate_pos: 0,
            tlen: 0,
            seq: b"ACGT".to_vec(),
            qual: vec![30; 4],
            nm: 0,
            md: "4".into(),
            mate_cigar: None,
            sa: None,
            xa: None,
        }
    }

    #[test]
    fn sa_and_xa_tags_are_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("r.fa");
        std::fs::write(&fa, ">a\nACGTACGTACGTACGT\n>a_alt\nACGTACGTACGTACGT\n").unwrap();
        let reference = Reference::load(&fa).unwrap();
        let header = build(&reference, &[ReadGroupLine::for_sample("S")], "test").unwrap();
        let mut r = read(4, "x");
        r.sa = Some("a,9,+,2S2M,60,0;".into());
        r.xa = Some("a_alt,-5,4M,0;".into());
        let bam = dir.path().join("x.bam");
        write(&bam, &header, std::slice::from_ref(&r), "S", 16).unwrap();
        let back = super::read(&bam, &reference).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].sa, r.sa);
        assert_eq!(back[0].xa, r.xa);
    }

    #[test]
    fn a_bam_in_another_contig_order_is_regrouped_in_reference_order() {
        let dir = tempfile::tempdir().unwrap();
        let (ba, ab) = (dir.path().join("ba.fa"), dir.path().join("ab.fa"));
        std::fs::write(&ba, ">b\nACGTACGTACGTACGT\n>a\nACGTACGTACGTACGT\n").unwrap();
        std::fs::write(&ab, ">a\nACGTACGTACGTACGT\n>b\nACGTACGTACGTACGT\n").unwrap();
        let (ref_ba, ref_ab) = (Reference::load(&ba).unwrap(), Reference::load(&ab).unwrap());
        let header = build(&ref_ba, &[ReadGroupLine::for_sample("S")], "test").unwrap();
        let mut on_a = read(2, "on_a");
        on_a.contig = Some(1);
        let records = vec![read(0, "on_b1"), read(3, "on_b2"), on_a];
        let bam = dir.path().join("x.bam");
        write(&bam, &header, &records, "S", 16).unwrap();
        let back = super::read(&bam, &ref_ab).unwrap();
        let order: Vec<(&str, Option<u32>)> =
            back.iter().map(|r| (r.name.as_str(), r.contig)).collect();
        assert_eq!(
            order,
            vec![("on_a", Some(0)), ("on_b1", Some(1)), ("on_b2", Some(1))]
        );
    }

    #[test]
    fn long_contigs_get_a_csi_index_short_ones_a_bai() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("r.fa");
        std::fs::write(&fa, ">c\nACGTACGTACGTACGT\n").unwrap();
        let reference = Reference::load(&fa).unwrap();
        let header = build(&reference, &[ReadGroupLine::for_sample("S")], "test").unwrap();
        let records = vec![read(0, "a"), read(5, "b")];
        let short = dir.path().join("short.bam");
        write(&short, &header, &records, "S", 16).unwrap();
        assert!(dir.path().join("short.bam.bai").exists());
        noodles::bam::bai::fs::read(dir.path().join("short.bam.bai")).unwrap();
        // As if the contig were longer than BAI can address.
        let long = dir.path().join("long.bam");
        write(&long, &header, &records, "S", BAI_MAX_LEN + 1).unwrap();
        assert!(!dir.path().join("long.bam.bai").exists());
        let csi = noodles::csi::fs::read(dir.path().join("long.bam.csi")).unwrap();
        assert_eq!(csi.reference_sequences().len(), 1);
    }

    #[test]
    fn parts_appended_give_the_records_and_index_of_one_stream() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("r.fa");
        let mut rng = fastrand::Rng::with_seed(5);
        let contig: String = (0..40_000)
            .map(|_| rng.choice(*b"ACGT").unwrap() as char)
            .collect();
        std::fs::write(&fa, format!(">a\n{contig}\n>b\n{contig}\n")).unwrap();
        let reference = Reference::load(&fa).unwrap();
        let header = build(&reference, &[ReadGroupLine::for_sample("S")], "test").unwrap();
        // 12,000 reads of 100 bp over both contigs, then unplaced ones: many BGZF blocks.
        let mut records = Vec::new();
        for (c, n) in [(0u32, 7_000u64), (1, 5_000)] {
            let mut pos: Vec<u64> = (0..n).map(|_| rng.u64(..39_900)).collect();
            pos.sort();
            for (i, p) in pos.into_iter().enumerate() {
                let mut r = read(p, &format!("r{c}.{i}"));
                r.contig = Some(c);
                r.seq = (0..100).map(|_| rng.choice(*b"ACGT").unwrap()).collect();
                r.qual = vec![30; 100];
                r.cigar = Cigar(vec![(CigarOp::Match, 100)]);
                r.md = "100".into();
                records.push(r);
            }
        }
        for i in 0..50 {
            let mut r = read(0, &format!("u{i}"));
            r.contig = None;
            r.flags = Flags::UNMAPPED;
            records.push(r);
        }
        let one = dir.path().join("one.bam");
        write(&one, &header, &records, "S", 40_000).unwrap();
        // Parts cut inside contig a, at the contig change, an empty one, and the unplaced.
        let cuts = [0, 3_001, 3_001, 7_000, 11_999, 12_000, records.len()];
        let mut sink =
            Box::new(BamSink::create(&dir.path().join("parts.bam"), &header, 40_000).unwrap());
        let mut tapped = Vec::new();
        let maker = crate::io::sink::AlignmentSink::parts(sink.as_ref());
        for (k, w) in cuts.windows(2).enumerate() {
            let mut pw = maker
                .create(&dir.path().join(format!("part{k}")), w[0] as u64)
                .unwrap();
            let mut buf = Vec::new();
            for r in &records[w[0]..w[1]] {
                buf.clear();
                writer::encode_record(r, "S", &mut buf);
                pw.push(&buf).unwrap();
            }
            let part = pw.finish().unwrap();
            sink.append_part(&part, &mut |recs| {
                tapped.extend(recs.iter().map(|r| r.to_vec()));
                Ok(())
            })
            .unwrap();
        }
        sink.finish().unwrap();
        let parts = dir.path().join("parts.bam");
        assert_eq!(
            super::read(&parts, &reference).unwrap(),
            super::read(&one, &reference).unwrap()
        );
        let mut want = Vec::new();
        for r in &records {
            let mut buf = Vec::new();
            writer::encode_record(r, "S", &mut buf);
            want.push(buf);
        }
        assert_eq!(tapped, want, "every record tapped once, in order");
        // Region queries through each file's own index find the same records.
        let (a, b) = (
            IndexedBam::open(&one, &reference).unwrap(),
            IndexedBam::open(&parts, &reference).unwrap(),
        );
        for (c, s, e) in [
            (0, 0, 100),
            (0, 15_000, 25_000),
            (0, 39_000, 40_000),
            (1, 0, 40_000),
            (1, 20_000, 20_001),
        ] {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            a.fetch(c, s, e, &mut x).unwrap();
            b.fetch(c, s, e, &mut y).unwrap();
            assert!(!x.is_empty());
            assert_eq!(x, y, "{c}:{s}-{e}");
        }
    }
}
