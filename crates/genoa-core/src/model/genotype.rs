//! VCF's genotype order: for alleles `j ≤ k` of a diploid call, genotype `j/k` is entry
//! `k(k+1)/2 + j` of PL and GL (`0/0 0/1 1/1 0/2 1/2 2/2 …`); a haploid call's entry is its
//! allele.

/// Index of the diploid genotype `a/b` (either order) in VCF order.
pub fn diploid_index(a: usize, b: usize) -> usize {
    let (j, k) = (a.min(b), a.max(b));
    k * (k + 1) / 2 + j
}

/// Index of an unphased genotype of one or two alleles in VCF order; `None` beyond diploid.
pub fn index(alleles: &[usize]) -> Option<usize> {
    match alleles {
        [a] => Some(*a),
        [a, b] => Some(diploid_index(*a, *b)),
        _ => None,
    }
}

/// The diploid genotypes of `n` alleles in VCF order.
pub fn diploid(n: u8) -> impl Iterator<Item = (u8, u8)> {
    (0..n).flat_map(|b| (0..=b).map(move |a| (a, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcf_order() {
        for (k, (a, b)) in diploid(4).enumerate() {
            assert_eq!(diploid_index(usize::from(a), usize::from(b)), k);
            assert_eq!(diploid_index(usize::from(b), usize::from(a)), k);
        }
        assert_eq!(index(&[1, 0]), Some(1));
        assert_eq!(index(&[2, 2]), Some(5));
        assert_eq!(index(&[3]), Some(3));
        assert_eq!(index(&[0, 1, 1]), None);
    }
}
