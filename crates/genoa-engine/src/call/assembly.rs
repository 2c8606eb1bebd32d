//! Local de Bruijn assembly of an active region's reads into candidate haplotypes, as
//! HaplotypeCaller assembles: the reference window's k-mers form the reference path; every read
//! adds its k-mers (runs of bases at or above a quality, no `N`) with edge weights counting the
//! reads that share an edge; non-reference edges seen fewer than `min_edge_weight` times are
//! pruned; haplotypes are the paths from the window's first to its last reference k-mer,
//! best-scoring first.
//!
//! Several k: the smallest `k` whose reference path has no repeated k-mer and whose pruned
//! graph has no cycle reachable from the source is used (low-complexity sequence and tandem
//! repeats need a larger `k`). When no `k` works, or the paths are too many to enumerate,
//! assembly fails and the caller falls back to haplotypes built from pileup candidates.
//!
//! Not (yet) done as HaplotypeCaller does: dangling head and tail recovery (a variant within
//! `k` bases of a read's end does not join the reference path) and graph simplification into
//! sequence nodes; the enumeration walks k-mer nodes directly.

use std::collections::HashMap;

/// Assembly settings.
#[derive(Clone, Debug)]
pub struct AssemblyParams {
    /// k-mer sizes tried in order (each at most 63).
    pub kmers: Vec<usize>,
    /// Non-reference edges supported by fewer reads are pruned.
    pub min_edge_weight: u32,
    /// Bases below this quality break a read's k-mer run.
    pub min_base_quality: u8,
    /// Most haplotypes kept (the reference included).
    pub max_haplotypes: usize,
    /// Most DFS steps spent enumerating paths before giving up.
    pub max_steps: usize,
}

impl Default for AssemblyParams {
    fn default() -> Self {
        AssemblyParams {
            kmers: vec![25, 35, 45, 55],
            min_edge_weight: 2,
            min_base_quality: 10,
            max_haplotypes: 16,
            max_steps: 100_000,
        }
    }
}

/// A read's bases (codes 0–3, 4 = N) and base qualities.
pub struct Piece<'a> {
    pub bases: &'a [u8],
    pub quals: &'a [u8],
}

/// 2-bit packed k-mer (k ≤ 63).
type Kmer = u128;

fn kmers_of(seq: &[u8], k: usize, mut f: impl FnMut(usize, Kmer)) {
    let mask: Kmer = if 2 * k >= 128 {
        Kmer::MAX
    } else {
        (1 << (2 * k)) - 1
    };
    let mut v: Kmer = 0;
    let mut run = 0usize;
    for (i, &b) in seq.iter().enumerate() {
        if b > 3 {
            run = 0;
            v = 0;
            continue;
        }
        v = ((v << 2) | Kmer::from(b)) & mask;
        run += 1;
        if run >= k {
            f(i + 1 - k, v);
        }
    }
}

struct Graph {
    ids: HashMap<Kmer, u32>,
    /// Last base of each node's k-mer.
    last: Vec<u8>,
    /// Out-edges: (target, weight, on the reference path).
    out: Vec<Vec<(u32, u32, bool)>>,
}

impl Graph {
    fn node(&mut self, kmer: Kmer) -> u32 {
        let n = self.ids.len() as u32;
        let id = *self.ids.entry(kmer).or_insert(n);
        if id == n {
            self.last.push((kmer & 3) as u8);
            self.out.push(Vec::new());
        }
        id
    }
    fn edge(&mut self, a: u32, b: u32, weight: u32, reference: bool) {
        let edges = &mut self.out[a as usize];
        match edges.iter_mut().find(|e| e.0 == b) {
            Some(e) => {
                e.1 += weight;
                e.2 |= reference;
            }
            None => edges.push((b, weight, reference)),
        }
    }
}

/// Candidate haplotypes of `reference` (base codes of the window) from `reads`; the first is
/// the reference itself. `None` when no k-mer size gives a usable graph.
pub fn assemble(
    reference: &[u8],
    reads: &[Piece],
    params: &AssemblyParams,
) -> Option<Vec<Vec<u8>>> {
    params
        .kmers
        .iter()
        .find_map(|&k| assemble_k(reference, reads, k, params))
}

fn assemble_k(
    reference: &[u8],
    reads: &[Piece],
    k: usize,
    params: &AssemblyParams,
) -> Option<Vec<Vec<u8>>> {
    if k == 0 || k > 63 || reference.len() < k + 1 || reference.iter().any(|&b| b > 3) {
        return None;
    }
    let mut g = Graph {
        ids: HashMap::new(),
        last: Vec::new(),
        out: Vec::new(),
    };
    // Reference path: its k-mers must be unique.
    let mut path = Vec::with_capacity(reference.len() - k + 1);
    kmers_of(reference, k, |_, v| path.push(v));
    let mut ref_nodes = Vec::with_capacity(path.len());
    for &v in &path {
        let before = g.ids.len();
        ref_nodes.push(g.node(v));
        if g.ids.len() == before {
            return None; // repeated k-mer on the reference path
        }
    }
    for w in ref_nodes.windows(2) {
        g.edge(w[0], w[1], 0, true);
    }
    // Reads: k-mer runs over bases of good quality.
    let mut masked = Vec::new();
    for r in reads {
        masked.clear();
        masked.extend(
            r.bases.iter().zip(r.quals).map(
                |(&b, &q)| {
                    if q < params.min_base_quality { 4 } else { b }
                },
            ),
        );
        let mut prev: Option<(usize, u32)> = None;
        let mut nodes = Vec::new();
        kmers_of(&masked, k, |i, v| nodes.push((i, v)));
        for (i, v) in nodes {
            let id = g.node(v);
            if let Some((pi, pid)) = prev
                && pi + 1 == i
            {
                g.edge(pid, id, 1, false);
            }
            prev = Some((i, id));
        }
    }
    // Prune weak non-reference edges.
    for edges in &mut g.out {
        edges.retain(|e| e.2 || e.1 >= params.min_edge_weight);
        // Heaviest first (reference edges win ties), so the walk meets likely paths first.
        edges.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    }
    let (source, sink) = (ref_nodes[0], *ref_nodes.last().unwrap());
    if has_cycle(&g, source) {
        return None;
    }
    // Every source → sink path, scored by Σ log(edge weight / node's out-weight) as
    // HaplotypeCaller scores them (reference edges count at least one read).
    let weight = |e: &(u32, u32, bool)| f64::from(e.1.max(1));
    let out_total: Vec<f64> = g.out.iter().map(|es| es.iter().map(weight).sum()).collect();
    let mut found: Vec<(f64, Vec<u32>)> = Vec::new();
    let mut stack: Vec<(u32, usize, f64)> = vec![(source, 0, 0.0)];
    let mut nodes = vec![source];
    let mut steps = 0usize;
    let max_len = reference.len() + 500;
    while let Some(&mut (node, ref mut next, score)) = stack.last_mut() {
        steps += 1;
        if steps > params.max_steps {
            return None;
        }
        if node == sink {
            found.push((score, nodes.clone()));
            stack.pop();
            nodes.pop();
            continue;
        }
        let edges = &g.out[node as usize];
        if *next >= edges.len() || nodes.len() > max_len {
            stack.pop();
            nodes.pop();
            continue;
        }
        let e = edges[*next];
        *next += 1;
        let s = score + (weight(&e) / out_total[node as usize]).ln();
        stack.push((e.0, 0, s));
        nodes.push(e.0);
    }
    // Best first; equal scores in path order (deterministic: edges are sorted).
    found.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let to_seq = |p: &[u32]| -> Vec<u8> {
        let mut s = reference[..k].to_vec();
        s.extend(p[1..].iter().map(|&n| g.last[n as usize]));
        s
    };
    let mut haps = vec![reference.to_vec()];
    for (_, p) in &found {
        let seq = to_seq(p);
        if !haps.contains(&seq) {
            haps.push(seq);
        }
        if haps.len() >= params.max_haplotypes {
            break;
        }
    }
    Some(haps)
}

/// Whether a cycle is reachable from `source` (iterative three-colour DFS).
fn has_cycle(g: &Graph, source: u32) -> bool {
    let mut colour = vec![0u8; g.out.len()]; // 0 new, 1 on the stack, 2 done
    let mut stack = vec![(source, 0usize)];
    colour[source as usize] = 1;
    while let Some(&mut (node, ref mut next)) = stack.last_mut() {
        let edges = &g.out[node as usize];
        if *next < edges.len() {
            let to = edges[*next].0;
            *next += 1;
            match colour[to as usize] {
                1 => return true,
                0 => {
                    colour[to as usize] = 1;
                    stack.push((to, 0));
                }
                _ => {}
            }
        } else {
            colour[node as usize] = 2;
            stack.pop();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::random_bases;

    fn pieces(seqs: &[Vec<u8>]) -> Vec<(Vec<u8>, Vec<u8>)> {
        seqs.iter()
            .map(|s| (s.clone(), vec![30u8; s.len()]))
            .collect()
    }

    /// Reads of length `len` tiled every `step` bases over `hap`.
    fn tile(hap: &[u8], len: usize, step: usize) -> Vec<Vec<u8>> {
        (0..=hap.len() - len)
            .step_by(step)
            .map(|s| hap[s..s + len].to_vec())
            .collect()
    }

    fn run(reference: &[u8], reads: &[(Vec<u8>, Vec<u8>)]) -> Option<Vec<Vec<u8>>> {
        let p: Vec<Piece> = reads
            .iter()
            .map(|(b, q)| Piece { bases: b, quals: q })
            .collect();
        assemble(reference, &p, &AssemblyParams::default())
    }

    #[test]
    fn finds_a_snp_and_a_deletion_haplotype() {
        let reference = random_bases(&mut fastrand::Rng::with_seed(7), 200);
        let mut snp = reference.clone();
        snp[100] = (snp[100] + 1) % 4;
        let mut del = reference.clone();
        del.drain(60..63);
        let mut reads = tile(&snp, 80, 5);
        reads.extend(tile(&del, 80, 5));
        reads.extend(tile(&reference, 80, 10));
        let haps = run(&reference, &pieces(&reads)).unwrap();
        assert_eq!(haps[0], reference);
        assert!(haps.contains(&snp), "{} haplotypes", haps.len());
        assert!(haps.contains(&del));
    }

    #[test]
    fn a_single_read_error_is_pruned() {
        let reference = random_bases(&mut fastrand::Rng::with_seed(3), 150);
        let mut reads = tile(&reference, 80, 5);
        let mut bad = reference[20..100].to_vec();
        bad[40] = (bad[40] + 2) % 4;
        reads.push(bad);
        let haps = run(&reference, &pieces(&reads)).unwrap();
        assert_eq!(haps, vec![reference]);
    }

    #[test]
    fn a_repeat_longer_than_k_moves_to_a_larger_k() {
        // A 30-base segment occurs twice: k = 25 has repeated reference k-mers, k = 35 not.
        let mut reference = random_bases(&mut fastrand::Rng::with_seed(11), 80);
        let unit = random_bases(&mut fastrand::Rng::with_seed(5), 30);
        reference.extend(&unit);
        reference.extend(random_bases(&mut fastrand::Rng::with_seed(12), 20));
        reference.extend(&unit);
        reference.extend(random_bases(&mut fastrand::Rng::with_seed(13), 80));
        let mut alt = reference.clone();
        alt[40] = (alt[40] + 1) % 4;
        let mut reads = tile(&alt, 100, 4);
        reads.extend(tile(&reference, 100, 4));
        let haps = run(&reference, &pieces(&reads)).unwrap();
        assert!(haps.contains(&alt));
        // A homopolymer longer than every k: no usable graph.
        let mut poly = random_bases(&mut fastrand::Rng::with_seed(1), 50);
        poly.extend(std::iter::repeat_n(0u8, 70));
        poly.extend(random_bases(&mut fastrand::Rng::with_seed(2), 50));
        assert!(run(&poly, &pieces(&tile(&poly, 100, 5))).is_none());
    }
}
